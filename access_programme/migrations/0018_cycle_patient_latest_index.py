"""A patient's latest cycle in one index probe: the next due dates' refresh and the follow-up's
reads order a patient's cycles by start date (docs/benchmarks.md, issue 18)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access_programme", "0017_batch_page_indexes"),
        ("registry", "0020_patient_study_id_pattern"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="treatmentcycle",
            index=models.Index(fields=["patient", "start_date", "cycle_number"], name="cycle_patient_latest"),
        ),
    ]
