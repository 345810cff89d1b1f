"""Write the analysis-ready dataset, a long table or the data dictionary to a file (and log it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import bundles, exports
from analytics.models import ExportLog
from registry.models import User


class Command(BaseCommand):
    help = (
        "Export the pseudonymised analysis-ready dataset. --table patients (default) or a long table "
        f"({', '.join(t for t in exports.TABLES if t != 'patients')}), or dictionary; "
        "--format csv|parquet (dictionary: csv|md), or a zip for a statistics package with the data "
        "dictionary: dta (Stata), sav (SPSS), xpt (SAS transport v5), r (CSV and an R script). "
        "Every export is recorded in the export log."
    )
    # The system checks load every URL conf, view and the API schema tooling (about half of the
    # command's start-up, docs/benchmarks.md): an export needs none of them, and `manage.py
    # check` runs them in CI and at deployment.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Output file.")
        parser.add_argument(
            "--format", dest="file_format", choices=["csv", "parquet", "md", *bundles.BUNDLE_FORMATS], default="csv"
        )
        parser.add_argument("--table", choices=[*exports.TABLES, "dictionary"], default="patients")
        parser.add_argument(
            "--as-user",
            default=None,
            help="Export only what this user may see (default: every patient, as the system).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        table, file_format = options["table"], options["file_format"]
        user = None
        if options["as_user"]:
            user = User.objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"No user '{options['as_user']}'.")
        if table == "dictionary":
            if file_format not in exports.DICTIONARY_FORMATS:
                raise CommandError("The dictionary is written as csv or md.")
            text = exports.dictionary_text(file_format=file_format, user=user, channel=ExportLog.Channel.COMMAND)
            path.write_text(text, encoding="utf-8")
            self.stdout.write(self.style.SUCCESS(f"Wrote the data dictionary to {path}."))
            return
        if file_format == "md":
            raise CommandError("Tables are written as csv or parquet.")
        started = time.perf_counter()
        channel = ExportLog.Channel.COMMAND
        if file_format in bundles.BUNDLE_FORMATS:
            # heavy: imported when used (docs/benchmarks.md, start-up)
            from analytics import stat_files

            try:
                result = bundles.write_bundle(
                    table=table, file_format=file_format, user=user, target=path, channel=channel
                )
            except stat_files.ExportError as refused:
                raise CommandError(str(refused)) from refused
            elapsed = time.perf_counter() - started
            self.stdout.write(
                self.style.SUCCESS(
                    f"Wrote {result.rows:,} rows of {table} for {bundles.BUNDLE_FORMATS[file_format]} to {path} "
                    f"(zip with the data dictionary) in {elapsed:.1f} s."
                )
            )
            return
        if file_format == "csv":
            rows = exports.write_table_csv(table=table, user=user, path=path, channel=channel)
        else:
            rows = exports.write_table_parquet(table=table, user=user, target=path, channel=channel)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Wrote {rows:,} rows of {table} to {path} in {elapsed:.1f} s."))
