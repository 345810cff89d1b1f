"""Drop the single-column indexes Django makes for these foreign keys (and the benchmark's
slug): each is the leading column of a unique constraint or composite index on the same table,
which answers every lookup the single column did, so the extra index only cost every insert
(the import writes millions) and disk. A test keeps the schema free of such prefixes (tests/project/test_schema_indexes.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('survival', '0005_run_reports'),
    ]

    operations = [
        migrations.AlterField(
            model_name='benchmark',
            name='code',
            field=models.SlugField(db_index=False, help_text='Stable name, e.g. mirocals_hr_low_pnfh', max_length=60),
        ),
        migrations.AlterField(
            model_name='historicalbenchmark',
            name='code',
            field=models.SlugField(db_index=False, help_text='Stable name, e.g. mirocals_hr_low_pnfh', max_length=60),
        ),
    ]
