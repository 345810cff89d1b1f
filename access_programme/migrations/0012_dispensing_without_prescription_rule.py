"""The data-quality rule of an imported past supply that has no checked prescription in the
registry (`access_programme.models.NO_PRESCRIPTION_RULE`): the supply is kept and queried, never
refused (docs/pharmacy.md). Minor: the supply happened; the query asks for its prescription."""

from django.db import migrations

CODE = "dispensing_without_prescription"


def seed_rule(apps, schema_editor):
    apps.get_model("registry", "DataQualityRule").objects.get_or_create(
        code=CODE,
        defaults={
            "name": "Supply without a checked prescription",
            "description": "An imported supply whose cycle has no prescription clinically checked by a pharmacist "
            "in the registry (for a special, none recording the prescriber's unsolicited request, reg. 167).",
            "severity": "minor",
            "parameters": {},
        },
    )


def remove_rule(apps, schema_editor):
    apps.get_model("registry", "DataQualityRule").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access_programme", "0011_reconciliation_explanation"),
        ("registry", "0007_data_quality_rules"),
    ]

    operations = [migrations.RunPython(seed_rule, remove_rule)]
