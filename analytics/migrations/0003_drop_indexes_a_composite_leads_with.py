"""Drop the single-column indexes Django makes for these foreign keys (and the benchmark's
slug): each is the leading column of a unique constraint or composite index on the same table,
which answers every lookup the single column did, so the extra index only cost every insert
(the import writes millions) and disk. A test keeps the schema free of such prefixes (tests/project/test_schema_indexes.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0002_export_jobs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='exportjob',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='export_jobs', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='exportlog',
            name='user',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='exports', to=settings.AUTH_USER_MODEL),
        ),
    ]
