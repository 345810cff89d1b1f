"""The study id's pattern held by the database (registry.identifiers.STUDY_ID_PATTERN): every
path already validated it, so existing rows pass; from now on no writer can store a study id that
is empty or starts with a spreadsheet formula character, and the CSV exports write it as stored."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0019_batch_page_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=models.Q(("study_id__regex", "\\A[A-Za-z0-9][A-Za-z0-9_-]{0,23}\\Z")),
                name="patient_study_id_pattern",
                violation_error_message=(
                    "A study id is 1 to 24 letters (A-Z, a-z), digits, hyphens and underscores, "
                    "starting with a letter or a digit."
                ),
            ),
        ),
    ]
