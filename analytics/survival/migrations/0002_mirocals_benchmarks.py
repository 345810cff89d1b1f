"""The published MIROCALS figures (Bensimon et al., Lancet 2025), tagged as in docs/benchmarks-provenance.md.

Provenance follows the domain reference: only design facts and the total of 90 deaths appear in
the PubMed abstract (confirmed); the other results are quoted by secondary sources. The December
2022 topline figures are kept as superseded versions, for history only.
"""

from django.db import migrations

LANCET = "Bensimon G, Leigh PN, Al-Chalabi A, et al. Lancet 2025; PMID 40354799; DOI 10.1016/S0140-6736(25)00262-4"
MEDWIRE = "springermedicine.com medwireNews 09-06-2025, quoting " + LANCET
MNDA = "MND Association blog, quoted in reddit r/ALS 'MIROCALS results finally published', quoting " + LANCET
LISTING = "ClinicalTrials.gov NCT03039673 listing (als.net/als-research/clinical-trials/293; meddatax.com)"
TOPLINE = "Clinigen topline release (ENCALS/ALS-MND symposium, Dec 2022), 4-traders.com"

BENCHMARKS = [
    # code, label, kind, arm, stratum, comparison, value, lo, hi, days, n, provenance, source, text
    ("mirocals_hr_unadjusted", "MIROCALS HR for death, unadjusted", "hazard_ratio", "", "all", "unadjusted",
     0.81, 0.54, 1.22, None, 220, "secondary", MEDWIRE, "Non-significant 19% reduction."),
    ("mirocals_hr_adjusted", "MIROCALS HR for death, adjusted for prognostic covariates", "hazard_ratio", "",
     "all", "adjusted", 0.32, 0.14, 0.73, None, 220, "secondary", MEDWIRE,
     "Covariate list unconfirmed beyond 'including CSF pNFH'."),
    ("mirocals_hr_low_pnfh", "MIROCALS HR for death, CSF pNFH 750-3700 pg/mL", "hazard_ratio", "", "low",
     "unadjusted", 0.52, 0.30, 0.89, None, None, "secondary", MEDWIRE, "About 70% of patients."),
    ("mirocals_hr_high_pnfh", "MIROCALS HR for death, CSF pNFH > 3700 pg/mL", "hazard_ratio", "", "high",
     "unadjusted", 1.37, 0.68, 2.75, None, None, "secondary", MEDWIRE, "About 21% of patients."),
    ("mirocals_deaths_total", "MIROCALS deaths, both arms", "deaths", "", "all", "", 90, None, None, None, 220,
     "confirmed", LANCET + " (abstract)", ""),
    ("mirocals_deaths_il2ld", "MIROCALS deaths, IL-2LD arm", "deaths", "il2ld", "all", "", 41, None, None, None,
     110, "secondary", MNDA, "69/110 alive at end of follow-up."),
    ("mirocals_deaths_placebo", "MIROCALS deaths, placebo arm", "deaths", "placebo", "all", "", 49, None, None,
     None, 110, "secondary", MNDA, "61/110 alive at end of follow-up."),
    ("mirocals_alive_il2ld", "MIROCALS IL-2LD alive at end of follow-up (crude 69/110)", "survival_at", "il2ld",
     "all", "", 0.627, None, None, 640, 110, "secondary", MNDA,
     "Crude proportion, not a Kaplan-Meier estimate; whether the time point is 18 or 21 months is unconfirmed "
     "(640 days assumed, the primary time point)."),
    ("mirocals_alive_placebo", "MIROCALS placebo alive at end of follow-up (crude 61/110)", "survival_at",
     "placebo", "all", "", 0.555, None, None, 640, 110, "secondary", MNDA,
     "Crude proportion; time point unconfirmed (640 days assumed)."),
    ("mirocals_alive_il2ld_low_pnfh", "MIROCALS IL-2LD survival, low pNFH stratum", "survival_at", "il2ld", "low",
     "", 0.72, None, None, 640, None, "secondary", "reddit comment and trial.medpath.com, quoting " + LANCET,
     "About 72% vs 54%; KM time point unconfirmed (640 days assumed)."),
    ("mirocals_alive_placebo_low_pnfh", "MIROCALS placebo survival, low pNFH stratum", "survival_at", "placebo",
     "low", "", 0.54, None, None, 640, None, "secondary", "reddit comment and trial.medpath.com, quoting " + LANCET,
     "KM time point unconfirmed (640 days assumed)."),
    ("mirocals_alsfrs_rate_ratio_low_pnfh", "MIROCALS ALSFRS-R decline rate ratio, low pNFH", "rate_ratio",
     "", "low", "", 0.77, None, None, None, None, "secondary", "trial.medpath.com, quoting " + LANCET,
     "'23% decrease in the rate of change in ALSFRS-R'; absolute slopes per arm unconfirmed."),
    ("natural_history_alsfrs_slope", "ALSFRS-R decline, European population cohorts", "slope", "", "all", "",
     -0.89, None, None, None, 7030, "confirmed",
     "PRECISION-ALS Extant study, van Eijk et al. 2025 (researchinformation.umcutrecht.nl)",
     "Average over 24 months; 95% of patients between 0.04 and 1.96 points/month."),
    ("mirocals_eligibility_age", "Age 18 to under 76", "eligibility", "", "all", "", None, None, None, None, None,
     "confirmed", LISTING, "18 years old and less than 76."),
    ("mirocals_eligibility_duration", "Symptom duration ≤ 24 months", "eligibility", "", "all", "", None, None,
     None, None, None, "confirmed", LISTING, ""),
    ("mirocals_eligibility_svc", "SVC ≥ 70% predicted", "eligibility", "", "all", "", None, None, None, None,
     None, "confirmed", LISTING, ""),
    ("mirocals_eligibility_el_escorial", "Possible, laboratory-supported probable, probable or definite ALS",
     "eligibility", "", "all", "", None, None, None, None, None, "confirmed", LISTING, "Revised El Escorial."),
    ("mirocals_eligibility_riluzole", "Riluzole (12-18-week run-in before randomisation)", "eligibility", "",
     "all", "", None, None, None, None, None, "confirmed", LISTING, "Riluzole-naive at screening."),
]
SUPERSEDED = [
    ("mirocals_hr_adjusted", "MIROCALS adjusted risk reduction 73% (topline)", "hazard_ratio", "", "all",
     "adjusted", 0.27, None, None, None, None, "secondary", TOPLINE, "Topline; superseded by the published 0.32."),
    ("mirocals_hr_low_pnfh", "MIROCALS low-to-moderate pNFH (79% of patients), 43% risk reduction (topline)",
     "hazard_ratio", "", "low", "unadjusted", 0.57, None, None, None, None, "secondary", TOPLINE,
     "Topline; superseded by the published 0.52 in the 750-3700 pg/mL stratum."),
]


def forwards(apps, schema_editor):
    Benchmark = apps.get_model("survival", "Benchmark")

    def make(row, version, current):
        code, label, kind, arm, stratum, comparison, value, lo, hi, days, n, provenance, source, text = row
        Benchmark.objects.create(
            code=code, version=version, is_current=current, trial="MIROCALS" if code.startswith("mirocals") else
            "Natural history", label=label, kind=kind, arm=arm, stratum=stratum, comparison=comparison, value=value,
            ci_lower=lo, ci_upper=hi, time_days=days, n=n, provenance=provenance, source=source, text=text,
        )

    for row in SUPERSEDED:
        make(row, 1, False)
    superseded = {row[0] for row in SUPERSEDED}
    for row in BENCHMARKS:
        make(row, 2 if row[0] in superseded else 1, True)


class Migration(migrations.Migration):
    dependencies = [("survival", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
