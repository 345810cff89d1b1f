"""Indexes for a batch's page (docs/benchmarks.md, issue 18): its recipients' counts read the
patients of the user's sites from (site, id) alone, and its adverse events walk (onset_date, id)
from the batch's first supply. The foreign key's own index on site is dropped after, since both
(site, study_id) and (site, id) lead with it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0018_patient_study_id_search"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="adverseevent",
            index=models.Index(fields=["onset_date", "id"], name="adverse_event_onset"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["site", "id"], name="patient_site_id"),
        ),
        migrations.AlterField(
            model_name="patient",
            name="site",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="patients",
                to="registry.site",
            ),
        ),
    ]
