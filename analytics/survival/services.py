"""Starting, executing and recovering survival analysis runs.

A run is keyed by a fingerprint of what determines its result: the data snapshot (row count
and latest audit id of every clinical table: any insert, edit or delete moves one), the
parameters, the benchmark versions and the code and library versions. A run with the same
fingerprint that already succeeded is reused instead of recomputed. Only one run of an
analysis can be queued or running (a partial unique constraint, so it holds across workers).
Results are written in the same transaction that marks the run succeeded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from importlib import metadata
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.selectors import dataset_frames, patients_refusing_sharing
from analytics.survival.models import ANALYSIS, AnalysisRun, Benchmark, BenchmarkKind, RunReport, RunStatus
from registry.models import ClinicalRecord, Role, User
from registry.tasking import enqueue_on_commit
from registry.version import code_version

if TYPE_CHECKING:
    import pandas as pd

    from analytics.suite import BenchmarkSpec, SuiteParameters

log = logging.getLogger(__name__)

#: The Celery task that runs a queued analysis (analytics.survival.tasks), sent by name.
RUN_TASK = "analytics.survival.tasks.survival_analysis_run_task"
MAX_ATTEMPTS = 3


def stale_after() -> dt.timedelta:
    """How long without a heartbeat before a running run counts as abandoned by a lost worker."""
    return dt.timedelta(seconds=settings.SURVIVAL_RUN_STALE_AFTER_SECONDS)


LIBRARIES = ("lifelines", "pandas", "numpy", "scipy", "matplotlib", "Django")


class RunBusy(Exception):
    """The run is being computed by another worker that is still alive; try again later."""


def may_run_analyses(user: User | None) -> bool:
    return user is None or bool(user.is_superuser or user.role in (Role.ANALYST, Role.DATA_MANAGER))


def library_versions() -> dict[str, str]:
    versions = {name: metadata.version(name) for name in LIBRARIES}
    versions["registry"] = code_version()
    return versions


def data_snapshot() -> dict[str, list[int]]:
    """[row count, latest history id] per clinical table: cheap, and moved by every change."""
    snapshot: dict[str, list[int]] = {}
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if not issubclass(model, ClinicalRecord):
            continue
        history = model.history  # type: ignore[attr-defined]  # simple-history's manager, added per model
        latest = history.order_by("-history_id").values_list("history_id", flat=True).first()
        snapshot[model._meta.label] = [model._default_manager.count(), latest or 0]
    return snapshot


def current_benchmarks() -> list[Benchmark]:
    return list(Benchmark.objects.filter(is_current=True).exclude(kind=BenchmarkKind.ELIGIBILITY).order_by("code"))


def benchmark_spec(benchmark: Benchmark) -> BenchmarkSpec:
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.suite import BenchmarkSpec

    return BenchmarkSpec(
        code=benchmark.code,
        label=benchmark.label,
        kind=benchmark.kind,
        provenance=benchmark.provenance,
        source=benchmark.source,
        value=benchmark.value,
        ci_lower=benchmark.ci_lower,
        ci_upper=benchmark.ci_upper,
        time_days=benchmark.time_days,
        arm=benchmark.arm,
        stratum=benchmark.stratum,
        comparison=benchmark.comparison,
        n=benchmark.n,
        points=tuple(tuple(p) for p in benchmark.points),
        risk_table=tuple((float(t), int(n)) for t, n in benchmark.risk_table),
        total_events=benchmark.total_events,
        is_test=benchmark.is_test,
    )


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def run_fingerprint(params: SuiteParameters) -> tuple[dict[str, Any], str]:
    snapshot = data_snapshot()
    benchmarks = [[b.code, b.version] for b in current_benchmarks()]
    context = {
        "snapshot": snapshot,
        "parameters": params.as_dict(),
        "benchmarks": benchmarks,
        "versions": library_versions(),
    }
    return context, _hash(context)


def survival_run_request(
    *,
    user: User | None,
    trigger: str = "manual",
    params: SuiteParameters | None = None,
    enqueue: bool = True,
    reuse: bool = True,
) -> AnalysisRun:
    """Queue a run (sent to a worker after commit unless `enqueue` is false), or return the
    reusable or already active one. `reuse=False` computes afresh even when a run of the same
    fingerprint has succeeded (a benchmark must time the computation, not a cache hit)."""
    if not may_run_analyses(user):
        raise PermissionDenied("Only analysts and data managers run analyses.")
    if params is None:
        # heavy: imported when used (docs/benchmarks.md, start-up)
        from analytics.suite import SuiteParameters

        params = SuiteParameters()
    if params.data_cutoff is None:  # the cut-off is always explicit in the stored parameters
        params = dataclasses.replace(params, data_cutoff=timezone.localdate().isoformat())
    context, fingerprint = run_fingerprint(params)
    reusable = AnalysisRun.objects.filter(
        analysis=ANALYSIS, fingerprint=fingerprint, status=RunStatus.SUCCEEDED
    ).first()
    if reusable is not None and reuse:
        return reusable
    try:
        with transaction.atomic():
            run = AnalysisRun.objects.create(
                analysis=ANALYSIS,
                trigger=trigger,
                requested_by=user,
                parameters=params.as_dict(),
                snapshot=context["snapshot"],
                snapshot_hash=_hash(context["snapshot"]),
                benchmarks_used=context["benchmarks"],
                fingerprint=fingerprint,
                library_versions=context["versions"],
            )
    except IntegrityError:
        active = AnalysisRun.objects.filter(analysis=ANALYSIS, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        existing = active.first()
        if existing is None:
            raise
        return existing
    if enqueue:
        # robust: with the broker down the request still succeeds and the run stays queued;
        # `survival_runs_recover_stale` sends it again once the broker is back.
        enqueue_on_commit(RUN_TASK, run.pk, robust=True)
    return run


def _claim(run_id: int) -> AnalysisRun | None:
    """Mark a queued (or stale running) run as ours; None if someone else has it or it is done."""
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return None
        now = timezone.now()
        if run.status == RunStatus.RUNNING and run.heartbeat_at and now - run.heartbeat_at < stale_after():
            raise RunBusy(run_id)
        if run.attempts >= MAX_ATTEMPTS:
            _fail(run, f"Gave up after {run.attempts} attempts (worker lost or killed).")
            return None
        run.status = RunStatus.RUNNING
        run.attempts += 1
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.progress_done = 0
        run.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "progress_done"])
        return run


def _fail(run: AnalysisRun, message: str) -> None:
    run.status = RunStatus.FAILED
    run.error = message
    run.finished_at = timezone.now()
    run.results = None
    run.figures = None
    run.save(update_fields=["status", "error", "finished_at", "results", "figures"])


def _report_progress(run_id: int, done: int, total: int, step: str) -> None:
    AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress_done=done, progress_total=total, progress_step=step, heartbeat_at=timezone.now()
    )


def load_analysis_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole registry's analysis dataset and ALSFRS-R visits (system read, not user-scoped),
    with the columns the trial emulation adds: first dose, enrolment, onset and riluzole dates,
    year of birth, onset to time origin in months, and the pre-dose CSF pNFH with its assay."""
    return analysis_frames(dataset_frames(None))


def analysis_frames(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`load_analysis_frames` from the input frames already read (`dataset_frames`): the
    derivations only, no database access."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pandas as pd

    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics import dataset, emulation

    patients = dataset.build_patient_dataset(**frames)
    source = frames["patients"].set_index("patient_id")
    for column in ("first_dose_date", "enrolment_date", "year_of_birth", "symptom_onset_date", "riluzole_start_date"):
        patients[column] = patients["patient_id"].map(source[column])
    onset = pd.to_datetime(patients["symptom_onset_date"])
    origin = pd.to_datetime(patients["time_origin_date"])
    patients["onset_to_origin_months"] = (origin - onset).dt.days / (365.25 / 12)
    pnfh = emulation.pre_dose_samples(source.reset_index().set_index("pk")["first_dose_date"], frames["pnfh"])
    pks = patients["patient_id"].map(source["pk"])
    patients["pnfh_pre_dose"] = pks.map(pnfh["value"]).astype(float)
    patients["pnfh_pre_dose_assay"] = pks.map(pnfh["assay"])
    study_ids = frames["patients"].set_index("pk")["patient_id"]
    alsfrs = frames["alsfrs"]
    visits = pd.DataFrame(
        {"patient_id": alsfrs["pk"].map(study_ids), "assessment_date": alsfrs["date"], "total": alsfrs["total"]}
    )
    return patients, visits


def survival_run_execute(run_id: int) -> AnalysisRun | None:
    """Compute a claimed run and store its results atomically; failures are recorded, not raised.

    Raises RunBusy when another live worker holds the run (a redelivered message).
    """
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.suite import SuiteParameters, run_survival_suite
    from analytics.survival.figures import drawn_figures
    from analytics.survival.reports import build_archive

    run = _claim(run_id)
    if run is None:
        return AnalysisRun.objects.filter(pk=run_id).first()
    try:
        patients, visits = load_analysis_frames()
        benchmarks = [benchmark_spec(b) for b in current_benchmarks()]
        params = SuiteParameters(**{**run.parameters, "times": tuple(run.parameters.get("times", (365, 640)))})
        output = run_survival_suite(
            patients,
            visits,
            benchmarks,
            params,
            progress=lambda done, total, step: _report_progress(run.pk, done, total, step),
            withheld_consent=patients_refusing_sharing().count(),
        )
        _report_progress(run.pk, 8, 10, "figures")
        figures = drawn_figures(output.results)
        _report_progress(run.pk, 9, 10, "report")
        finished = timezone.now()
        provenance = {**run_summary(run), "status": RunStatus.SUCCEEDED, "finished_at": finished}
        archive = build_archive(provenance=provenance, results=output.results, figures=figures, dataset=output.dataset)
    except Exception as error:
        log.exception("Survival run %s failed", run_id)
        with transaction.atomic():
            locked = AnalysisRun.objects.select_for_update().get(pk=run_id)
            _fail(locked, f"{type(error).__name__}: {error}")
        return locked
    with transaction.atomic():
        locked = AnalysisRun.objects.select_for_update().get(pk=run_id)
        if locked.status != RunStatus.RUNNING:  # marked failed meanwhile by the recovery sweep
            return locked
        locked.results = output.results
        locked.figures = figures
        locked.status = RunStatus.SUCCEEDED
        locked.finished_at = finished
        locked.progress_done = locked.progress_total
        locked.progress_step = "done"
        locked.save()
        RunReport.objects.create(
            run=locked,
            code_version=archive.code_version,
            dataset_sha256=archive.dataset_sha256,
            pdf=archive.pdf,
            pdf_sha256=hashlib.sha256(archive.pdf).hexdigest(),
            package=archive.package,
            package_sha256=hashlib.sha256(archive.package).hexdigest(),
        )
    return locked


def survival_runs_recover_stale() -> list[int]:
    """Send again the runs a lost worker or a lost message left behind; give up after 3 tries.

    Two ways a run is stranded: a worker killed mid-run stops its heartbeat (status running),
    and a message lost with the broker (Redis restarted without persistence, or down when the
    run was requested) leaves a run queued that no worker will ever claim. Sending a run twice
    is harmless: `_claim` lets one worker have it and the other message finds it busy or done.
    """
    cutoff = timezone.now() - stale_after()
    stranded = AnalysisRun.objects.filter(
        Q(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff)
        | Q(status=RunStatus.QUEUED, created_at__lt=cutoff, heartbeat_at__isnull=True)
        | Q(status=RunStatus.QUEUED, heartbeat_at__lt=cutoff)
    ).values_list("pk", flat=True)
    requeued = []
    for run_id in stranded:
        with transaction.atomic():
            run = AnalysisRun.objects.select_for_update().get(pk=run_id)
            if run.status == RunStatus.RUNNING and run.attempts >= MAX_ATTEMPTS:
                _fail(run, f"Gave up after {run.attempts} attempts (worker lost or killed).")
                continue
            run.status = RunStatus.QUEUED
            run.heartbeat_at = timezone.now()  # when it was last sent: not sent again before `stale_after`
            run.save(update_fields=["status", "heartbeat_at"])
            enqueue_on_commit(RUN_TASK, run_id, robust=True)
            requeued.append(run_id)
    return requeued


def benchmark_revise(*, user: User | None, code: str, **fields: Any) -> Benchmark:
    """Add a benchmark or a new version of one; the previous version stays for the runs that used it."""
    if not may_run_analyses(user):
        raise PermissionDenied("Only analysts and data managers maintain benchmarks.")
    with transaction.atomic():
        previous = Benchmark.objects.select_for_update().filter(code=code, is_current=True).first()
        benchmark = Benchmark(code=code, created_by=user, **fields)
        benchmark.version = (previous.version + 1) if previous else 1
        benchmark.full_clean(exclude=["is_current"])
        if previous:
            previous.is_current = False
            previous._change_reason = f"Superseded by version {benchmark.version}"  # type: ignore[attr-defined]
            previous.save(update_fields=["is_current"])
        benchmark._change_reason = "New version" if previous else "Added"  # type: ignore[attr-defined]
        benchmark.save()
    return benchmark


def run_summary(run: AnalysisRun) -> dict[str, Any]:
    """The provenance block printed with every result: snapshot, parameters, versions."""
    return {
        "run": run.pk,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "snapshot_hash": run.snapshot_hash,
        "parameters": run.parameters,
        "benchmarks": run.benchmarks_used,
        "library_versions": run.library_versions,
        "code_version": run.library_versions.get("registry", "unknown"),
    }


def as_json(run: AnalysisRun) -> str:
    return json.dumps({"provenance": run_summary(run), "results": run.results}, indent=2, default=str)
