"""Export the registry as a cohort in the registry interchange format (folder, or .zip by extension)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from interchange import rif
from interchange.services import cohort_export


class Command(BaseCommand):
    help = (
        f"Write the registry as a {rif.version_label()} cohort, manifest.csv giving today as the data cut-off: "
        "a folder, or a .zip if PATH ends in .zip. Pseudonymous (study ids and year of birth only); "
        "alsfrs_r.csv carries the derived scores for analysts."
    )

    # The checks import every URLconf (and with it the statistics stack): seconds for nothing here.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Target folder or .zip file.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        verbose = options["verbosity"] >= 2

        def progress(file: str, rows: int) -> None:
            if verbose:
                self.stderr.write(f"  {file}: {rows:,} rows")

        outcome = cohort_export(Path(options["path"]), progress=progress)
        for name, count in outcome.rows.items():
            self.stdout.write(f"  {name:<20} {count:>10,}")
        if outcome.patients_left_out:
            shown = ", ".join(outcome.patients_left_out[:10])
            more = " …" if len(outcome.patients_left_out) > 10 else ""
            self.stdout.write(
                self.style.WARNING(
                    f"{len(outcome.patients_left_out)} patient(s) not exported: RIF needs a diagnosis and an "
                    f"enrolment ({shown}{more})."
                )
            )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Exported {outcome.total_rows:,} rows to {options['path']} in {elapsed:.1f} s.")
        )
