"""Drop the single-column indexes of foreign keys that a unique constraint or a
composite index of the same table leads with; why: registry/migrations/0021."""

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
