"""Drop the single-column indexes Django makes for these foreign keys (and the benchmark's
slug): each is the leading column of a unique constraint or composite index on the same table,
which answers every lookup the single column did, so the extra index only cost every insert
(the import writes millions) and disk. A test keeps the schema free of such prefixes (tests/project/test_schema_indexes.py)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('access_programme', '0018_cycle_patient_latest_index'),
        ('registry', '0020_patient_study_id_pattern'),
    ]

    operations = [
        migrations.AlterField(
            model_name='batch',
            name='product',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='access_programme.product'),
        ),
        migrations.AlterField(
            model_name='dispensing',
            name='batch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='dispensings', to='access_programme.batch'),
        ),
        migrations.AlterField(
            model_name='dispensing',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='dispensings', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='prescription',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='prescriptions', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='recallnotice',
            name='batch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='recall_notices', to='access_programme.batch'),
        ),
        migrations.AlterField(
            model_name='recallnotice',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='recall_notices', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='reconciliationexplanation',
            name='batch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='reconciliation_explanations', to='access_programme.batch'),
        ),
        migrations.AlterField(
            model_name='sitestock',
            name='batch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='site_stock', to='access_programme.batch'),
        ),
        migrations.AlterField(
            model_name='stockmovement',
            name='batch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='access_programme.batch'),
        ),
        migrations.AlterField(
            model_name='treatmentcycle',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cycles', to='registry.patient'),
        ),
    ]
