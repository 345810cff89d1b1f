"""A trigram index for the study-id search (`study_id__icontains`: the patient list's search box and
the admin's): PostgreSQL answers `UPPER(study_id) LIKE UPPER('%…%')` from it instead of testing
every patient of the user's sites (docs/benchmarks.md, issue 18). pg_trgm is a trusted extension
(PostgreSQL 13+), so the database owner that runs `migrate` may create it. SQLite has neither; its
search stays a scan."""

from django.db import migrations

#: The expression Django writes for `study_id__icontains` on PostgreSQL, so the planner can use it.
CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS patient_study_id_trgm ON registry_patient USING gin (UPPER(study_id::text) gin_trgm_ops);
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS patient_study_id_trgm;")


class Migration(migrations.Migration):
    dependencies = [("registry", "0017_consent_withdrawal_records")]

    operations = [migrations.RunPython(install, remove)]
