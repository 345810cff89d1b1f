"""Benchmark provenance per issue 13: the primary publication is the source, secondary sources are
labelled as such, and a forum or a news aggregator is never a source.

* The per-arm MIROCALS figures (41/49 deaths, 69/110 and 61/110 alive) get a new version citing the
  Lancet paper with the MND Association blog as a labelled secondary source (the previous version
  cited it through a forum thread). The proportions are labelled approximate: they are crude
  proportions, and as one point each their curve shape is assumed.
* The low-pNFH survival figures (72 % vs 54 %) and the ALSFRS-R rate ratio rested only on a forum
  comment and a news aggregator: they are withdrawn (no current version), their history kept.
"""

from django.db import migrations

LANCET = "Bensimon G, Leigh PN, Al-Chalabi A, et al. Lancet 2025; PMID 40354799"
DOI = "10.1016/S0140-6736(25)00262-4"
MNDA = "secondary: MND Association research blog on the published results (May 2025), quoting the paper"
REVISED = {
    "mirocals_deaths_il2ld": "MIROCALS deaths, IL-2LD arm",
    "mirocals_deaths_placebo": "MIROCALS deaths, placebo arm",
    "mirocals_alive_il2ld": "MIROCALS IL-2LD alive at end of follow-up (crude 69/110; approximate, curve shape assumed)",
    "mirocals_alive_placebo": "MIROCALS placebo alive at end of follow-up (crude 61/110; approximate, curve shape assumed)",
}
WITHDRAWN = ("mirocals_alive_il2ld_low_pnfh", "mirocals_alive_placebo_low_pnfh", "mirocals_alsfrs_rate_ratio_low_pnfh")


def forwards(apps, schema_editor):
    Benchmark = apps.get_model("survival", "Benchmark")
    for code, label in REVISED.items():
        old = Benchmark.objects.filter(code=code, is_current=True).first()
        if old is None:
            continue
        Benchmark.objects.filter(pk=old.pk).update(is_current=False)
        old.pk = None
        old.id = None
        old.version += 1
        old.is_current = True
        old.label = label
        old.source = f"{LANCET}; DOI {DOI}"
        old.doi = DOI
        old.secondary_sources = [MNDA]
        old.provenance = "secondary"
        old.save()
    Benchmark.objects.filter(code__in=WITHDRAWN, is_current=True).update(is_current=False)


def backwards(apps, schema_editor):
    Benchmark = apps.get_model("survival", "Benchmark")
    for code in REVISED:
        latest = Benchmark.objects.filter(code=code).order_by("-version").first()
        if latest is not None and latest.version > 1:
            latest.delete()
            Benchmark.objects.filter(code=code, version=latest.version - 1).update(is_current=True)
    for code in WITHDRAWN:
        latest = Benchmark.objects.filter(code=code).order_by("-version").first()
        if latest is not None:
            Benchmark.objects.filter(pk=latest.pk).update(is_current=True)


class Migration(migrations.Migration):
    dependencies = [("survival", "0003_benchmark_curves")]
    operations = [migrations.RunPython(forwards, backwards)]
