"""Run the survival suite from the command line, as the nightly task does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.survival import services
from analytics.survival.models import RunStatus


class Command(BaseCommand):
    help = "Run the survival comparisons and write the results (with provenance) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="Path of the JSON file to write.")
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="Compute afresh even if a run of the same data and parameters has succeeded (for benchmarks).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = services.survival_run_request(user=None, trigger="command", enqueue=False, reuse=not options["recompute"])
        if run.status != RunStatus.SUCCEEDED:
            try:
                run = services.survival_run_execute(run.pk) or run
            except services.RunBusy as busy:
                raise CommandError(f"Run {run.pk} is being computed by a worker; try again later.") from busy
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"Run {run.pk} {run.status}: {run.error}")
        options["output"].write_text(services.as_json(run))
        cohort = (run.results or {})["cohort"]  # a succeeded run has results
        self.stdout.write(
            self.style.SUCCESS(
                f"Run {run.pk}: {cohort['n']} patients, {cohort['os_events']} deaths -> {options['output']}"
            )
        )
