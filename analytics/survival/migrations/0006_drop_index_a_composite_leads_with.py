"""Drop the slug's single-column index, which a unique constraint of the same table
(`unique_benchmark_version`) leads with; why: registry/migrations/0021."""

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
