"""Pharmacy pages: the dispensing worklist, dispensing a cycle, and the batch register.

Thin views: reads through access_programme.selectors (patients scoped by the one visibility
rule), writes through access_programme.services (stock is decremented under a row lock in the
dispensing transaction). Only roles that may write pharmacy data (pharmacists, data managers)
use these pages.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from access_programme import selectors, services
from access_programme.models import Batch, BatchStatus, RouteCode, dispense_ahead_days, prescription_errors
from access_programme.stock import services as stock_services
from pharmacy.access import dispensing_target_or_404, require_pharmacy
from pharmacy.forms import BatchReceiveForm, BatchStatusForm, DispenseForm
from registry import safe_csv
from registry.constants import DOSING_DAYS_PER_CYCLE
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.selectors import record_history, sites_visible_to
from registry.services import StaleRecordError


@login_required
@require_GET
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_pharmacy(request.user)
    today = timezone.localdate()
    due = selectors.dispensing_worklist(request.user, today=today, page=request.GET.get("page"))
    return render(
        request,
        "pharmacy/worklist.html",
        {
            "page": due.page,
            "rows": due.rows,
            "today": today,
            "horizon": dispense_ahead_days(),
            "recalled": selectors.open_recall_patient_ids([row.patient.pk for row in due.rows]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispense(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Supply the next cycle against its checked prescription (from the dispensing window
    before it starts), or complete a part-supplied cycle."""
    today = timezone.localdate()
    target = dispensing_target_or_404(request.user, study_id, today)
    patient = target.patient
    part = selectors.part_supplied_cycle(patient)
    if target.cycle_number == 0 and part is None:
        messages.info(request, f"{patient.study_id} is not in follow-up: nothing to dispense.")
        return redirect("clinic:patient_detail", study_id=patient.study_id)
    cycle_number = part[0].cycle_number if part else target.cycle_number
    prescription = selectors.cycle_prescription(patient, cycle_number)
    special = target.route.code == RouteCode.NHS_SPECIALS
    missing = prescription_errors(prescription, patient_id=patient.pk, cycle_number=cycle_number, special=special)
    if prescription is None or missing:  # the service would refuse the supply: take the prescription step
        messages.info(request, " ".join(missing.values()))
        return redirect("pharmacy:prescribe", study_id=patient.study_id)
    batches = selectors.dispensable_batches(target.route, today)
    form = DispenseForm(
        request.POST or None,
        batches=batches,
        special=special,
        due=None if part else max(target.due_date, today),
        prescriber=prescription.prescriber,
        days_left=DOSING_DAYS_PER_CYCLE - part[1] if part else prescription.doses,
    )
    if request.method == "POST" and form.is_valid():
        try:
            if part:
                dispensing = services.dispensing_record(
                    actor=request.user,
                    cycle=part[0],
                    batch=form.cleaned_data["batch"],
                    prescription=prescription,
                    **form.dispensing_fields(),
                )
            else:
                dispensing = services.cycle_dispense(
                    actor=request.user,
                    patient=patient,
                    cycle_number=target.cycle_number,
                    start_date=form.cleaned_data["cycle_start_date"],
                    batch=form.cleaned_data["batch"],
                    prescription=prescription,
                    **form.dispensing_fields(),
                )
        except StaleRecordError as error:
            form.add_error(None, error.messages[0])
        except ValidationError as error:
            _add_dispense_errors(form, error)
        else:
            messages.success(
                request,
                f"Cycle {cycle_number} dispensed to {patient.study_id}: {dispensing.quantity} × "
                f"batch {dispensing.batch.batch_number}, {dispensing.days_supplied} day(s). "
                "A second person makes the accuracy check.",
            )
            return redirect("pharmacy:dispensing_detail", pk=dispensing.pk)
    return render(
        request,
        "pharmacy/dispense.html",
        {
            "target": target,
            "cycle_number": cycle_number,
            "part": part,
            "prescription": prescription,
            "patient": patient,
            "form": form,
            "special": special,
            "batches": batches,
            "recent": selectors.recent_dispensings(patient),
            "ahead": dispense_ahead_days(),
        },
    )


def _add_dispense_errors(form: DispenseForm, error: ValidationError) -> None:
    """The cycle's start_date error belongs to the form's cycle start field."""
    if hasattr(error, "error_dict") and "start_date" in error.error_dict:
        for message in error.message_dict["start_date"]:
            form.add_error("cycle_start_date", message)
        error = ValidationError({k: v for k, v in error.error_dict.items() if k != "start_date"})
        if not error.error_dict:
            return
    add_service_errors(form, error)


@login_required
@require_GET
def batch_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_pharmacy(request.user)
    status = request.GET.get("status", "")
    if status not in BatchStatus.values:
        status = ""
    return render(
        request,
        "pharmacy/batch_list.html",
        {
            "batches": selectors.batch_register(status),
            "status": status,
            "statuses": BatchStatus.choices,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_receive(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Goods in at one of the user's sites, against the delivery note, into quarantine."""
    require_pharmacy(request.user)
    form = BatchReceiveForm(request.POST or None, sites=sites_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k not in ("product", "site", "delivery_note")}
        try:
            batch = stock_services.batch_goods_in(
                actor=request.user,
                product=form.cleaned_data["product"],
                site=form.cleaned_data["site"],
                delivery_note=form.cleaned_data["delivery_note"],
                **fields,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Batch {batch.batch_number} received into quarantine: release it to use it.")
            return redirect("pharmacy:batch_detail", pk=batch.pk)
    return render(request, "pharmacy/batch_receive.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def batch_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A batch, its status actions (quarantine, recall, release) and every patient who received it."""
    require_pharmacy(request.user)
    batch = get_object_or_404(Batch.objects.select_related("product"), pk=pk)
    form = BatchStatusForm(request.POST or None, current=batch.status, initial={"version": batch.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.BATCH_STATUS_SERVICES[BatchStatus(form.cleaned_data["status"])](
                actor=request.user,
                batch=batch,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleRecordError as error:
            form.add_error(None, error.messages[0])
            status = 409
            batch = Batch.objects.select_related("product").get(pk=pk)  # nothing was saved: show what is
        except ValidationError as error:
            add_service_errors(form, error)
            batch = Batch.objects.select_related("product").get(pk=pk)
        else:
            messages.success(request, f"Batch {batch.batch_number}: {batch.get_status_display().lower()}.")
            return redirect(reverse("pharmacy:batch_detail", args=[batch.pk]))
    return render(
        request,
        "pharmacy/batch_detail.html",
        {
            "batch": batch,
            "form": form,
            "recipients": selectors.batch_recipients(request.user, batch, page=request.GET.get("page")),
            "shown_status": batch.status_on(timezone.localdate()),
            "adverse_events": selectors.batch_recipient_adverse_events(request.user, batch),
            "history": record_history(batch, limit=20),
        },
        status=status,
    )


@login_required
@require_GET
def batch_recipients_csv(request: AuthenticatedHttpRequest, pk: int) -> StreamingHttpResponse:
    """Every patient at the user's sites who received the batch, for a recall: streamed CSV."""
    require_pharmacy(request.user)
    batch = get_object_or_404(Batch, pk=pk)
    rows = selectors.batch_recipients_rows(request.user, batch)
    return _batch_csv(batch, "recipients", selectors.RECIPIENTS_CSV_HEADER, rows)


@login_required
@require_GET
def batch_adverse_events_csv(request: AuthenticatedHttpRequest, pk: int) -> StreamingHttpResponse:
    """Every adverse event of the batch's recipients at the user's sites after their supply: the
    page lists the first ones only."""
    require_pharmacy(request.user)
    batch = get_object_or_404(Batch, pk=pk)
    rows = selectors.batch_recipient_adverse_events_rows(request.user, batch)
    return _batch_csv(batch, "adverse-events", selectors.RECIPIENT_ADVERSE_EVENTS_CSV_HEADER, rows)


def _batch_csv(
    batch: Batch, what: str, header: tuple[str, ...], rows: Iterator[tuple[object, ...]]
) -> StreamingHttpResponse:
    writer = safe_csv.writer(safe_csv.Echo())
    lines = itertools.chain([writer.writerow(header)], (writer.writerow(row) for row in rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", batch.batch_number)
    response["Content-Disposition"] = f'attachment; filename="batch-{name}-{what}.csv"'
    return response
