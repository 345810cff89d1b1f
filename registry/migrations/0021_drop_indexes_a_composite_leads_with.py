"""Drop the single-column indexes Django makes for these foreign keys (and the benchmark's
slug): each is the leading column of a unique constraint or composite index on the same table,
which answers every lookup the single column did, so the extra index only cost every insert
(the import writes millions) and disk. A test keeps the schema free of such prefixes (tests/project/test_schema_indexes.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('registry', '0020_patient_study_id_pattern'),
    ]

    operations = [
        migrations.AlterField(
            model_name='adverseevent',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='adverse_events', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='alsfrsrassessment',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='alsfrsr_assessments', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='biomarkerresult',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='biomarkers', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='clinicalevent',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='consentwithdrawal',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='withdrawals', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='dataquery',
            name='patient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='data_queries', to='registry.patient'),
        ),
        migrations.AlterField(
            model_name='dataquery',
            name='record_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='safetyreport',
            name='case',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='registry.safetycase'),
        ),
        migrations.AlterField(
            model_name='signature',
            name='record_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
    ]
