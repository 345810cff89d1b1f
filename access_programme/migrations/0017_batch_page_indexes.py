"""A batch's first supply, from which its page reads its recipients' adverse events, is the first
entry of this index (docs/benchmarks.md, issue 18)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access_programme", "0016_enrolment_site_enrolled"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="dispensing",
            index=models.Index(fields=["batch", "dispensed_on"], name="dispensing_batch_date"),
        ),
    ]
