"""Import a cohort (a folder or .zip in the registry interchange format) from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from interchange import rif
from interchange.importer import DEFAULT_CHUNK_SIZE
from interchange.services import cohort_import


class Command(BaseCommand):
    help = (
        f"Import a cohort in the registry interchange format ({rif.version_label()}, or RIF v1 without a manifest): "
        "a folder or .zip of CSV files. "
        "Good rows are imported, every rejected row is listed in the report CSV; running it again changes nothing."
    )

    # The checks import every URLconf (and with it the statistics stack): seconds for nothing here.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Folder or .zip holding patients.csv and the other RIF files.")
        parser.add_argument("--report", help="Also write the report CSV here (it is always kept with the run).")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Rows per transaction.")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Worker processes, the patients shared out between them (PostgreSQL only; default 1).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs and cron).")

    def _stderr_stream(self) -> TextIO:
        """The stream under the command's stderr wrapper (which would append a newline to every
        write, breaking the bar's carriage returns). The stubs type forwarded attributes as methods."""
        return cast(TextIO, self.stderr._out)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        bar = (
            None
            if options["no_progress"] or options["verbosity"] < 1
            else tqdm(total=0, unit=" rows", unit_scale=True, dynamic_ncols=True, file=self._stderr_stream())
        )

        def progress(done: int, total: int, file: str) -> None:
            if bar is None:
                return
            bar.total = total
            bar.set_description(file)
            bar.update(done - bar.n)

        try:
            run, outcome = cohort_import(
                path, progress=progress, chunk_size=options["chunk_size"], workers=options["workers"]
            )
        finally:
            if bar is not None:
                bar.close()
        if outcome is None:
            raise CommandError(run.error)
        report = outcome.report
        for line in report.summary_lines():
            self.stdout.write(line)
        for issue in report.shown:
            where = f"{issue.file}:{issue.line}" if issue.line else issue.file
            key = f" [{issue.key}]" if issue.key else ""
            self.stdout.write(f"  {issue.severity:<7} {where}{key} {issue.message}")
        if report.errors > len([i for i in report.shown if i.severity == "error"]):
            self.stdout.write("  … more in the report.")
        report_path = Path(run.report.path)
        if options["report"]:
            shutil.copyfile(report_path, options["report"])
            report_path = Path(options["report"])
        rate = outcome.rows_per_second
        style = self.style.SUCCESS if not report.errors else self.style.WARNING
        self.stdout.write(
            style(
                f"Import run {run.pk}: {outcome.rows:,} rows in {outcome.seconds:.1f} s ({rate:,.0f} rows/s); "
                f"{report.totals.rejected:,} rejected, {report.warnings:,} warning(s). Report: {report_path}"
            )
        )
