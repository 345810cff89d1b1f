"""Seed the synthetic demo cohort and demo users: deterministic, idempotent, bulk."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from access_programme.demo_cohort import ensure_demo_users, seed_cohort


class Command(BaseCommand):
    help = "Create a realistic synthetic cohort (sites, routes, batches, patients with histories) and demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=300, help="Number of patients (default 300).")
        parser.add_argument("--seed", type=int, default=2025, help="Random seed; the same seed gives the same cohort.")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Data cut date (YYYY-MM-DD); default today. Seed and date together fix the cohort.",
        )
        parser.add_argument("--no-users", action="store_true", help="Do not create demo users.")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = options["as_of"] or timezone.localdate()
        verbosity = options["verbosity"]
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if verbosity >= 1 and (done == total or done % 10_000 == 0):
                self.stdout.write(f"  {done:,}/{total:,} patients")

        result = seed_cohort(patients=options["patients"], seed=options["seed"], as_of=as_of, progress=progress)
        if result.skipped:
            self.stdout.write("Demo cohort already present: nothing seeded.")
        else:
            rows = ", ".join(f"{count:,} {name}" for name, count in result.rows.items())
            elapsed = time.perf_counter() - started
            self.stdout.write(self.style.SUCCESS(f"Seeded {result.patients:,} patients in {elapsed:.1f} s ({rows})."))
        if options["no_users"]:
            return
        created = ensure_demo_users(lambda: secrets.token_urlsafe(12))
        if created:
            self.stdout.write(self.style.WARNING("Demo users (passwords are shown only this once):"))
            for username, role, password in created:
                self.stdout.write(f"  {username:<16} {role:<13} {password}")
        else:
            self.stdout.write("Demo users already exist (use `manage.py changepassword USER` to reset one).")
