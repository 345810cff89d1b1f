"""Reference data every installation needs: the two access routes, the comparator, the products."""

from django.db import migrations

ROUTES = [
    ("managed_access", "Managed Access Programme (ILT-101)",
     "Company named-patient programme of ILTOO Pharma; requests are unsolicited and made by the treating physician."),
    ("nhs_specials", "NHS Specials (reconstituted Proleukin)",
     "Off-label Proleukin (aldesleukin, Clinigen) prepared by a specials manufacturer as low-dose syringes, "
     "as in MIROCALS."),
    ("none", "Registry only (untreated comparator)", "Patients followed without IL-2LD."),
]
PRODUCTS = [
    ("ilt_101", "ILT-101 low-dose interleukin-2", "managed_access", "ILTOO Pharma", False),
    ("proleukin_specials", "Proleukin 2 MIU low-dose special (aldesleukin)", "nhs_specials",
     "Clinigen (Proleukin 18 MIU vial), prepared by a licensed specials manufacturer", True),
]


def forwards(apps, schema_editor):
    Route = apps.get_model("access_programme", "Route")
    Product = apps.get_model("access_programme", "Product")
    for code, name, description in ROUTES:
        Route.objects.update_or_create(code=code, defaults={"name": name, "description": description})
    for code, name, route, manufacturer, special in PRODUCTS:
        Product.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "route": Route.objects.get(code=route),
                "manufacturer": manufacturer,
                "is_unlicensed_special": special,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("access_programme", "0002_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
