"""The dataset's declarative spec: every exported table and column, as the data dictionary
states it (definition, unit, source). `analytics.dataset` implements the rules these columns
describe; the dictionary's rows and Markdown are generated here from this spec (no pandas, so the
web process can list tables and serve the dictionary without importing it). No Django here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of an exported table, as the data dictionary states it."""

    name: str
    type: str  # string | category | integer | number | boolean | date | datetime
    unit: str
    definition: str
    source: str
    #: Text that can never be empty or start with a spreadsheet formula character, because the
    #: database refuses it (the study id's CHECK constraint): the CSV writers pass it through as
    #: it is, where other text is neutralised (registry.safe_csv), a cost on every row of an export.
    formula_safe: bool = False


def _c(name: str, type_: str, unit: str, definition: str, source: str, *, formula_safe: bool = False) -> Column:
    return Column(name, type_, unit, definition, source, formula_safe)


PATIENT_COLUMNS: tuple[Column, ...] = (
    _c(
        "patient_id",
        "string",
        "",
        "Pseudonymous study id (site code and number); never a name or NHS number.",
        "Patient.study_id",
        formula_safe=True,
    ),
    _c("site_code", "category", "", "Treating site code, e.g. GB-LON.", "Site.code"),
    _c(
        "route",
        "category",
        "",
        "Access route: managed_access, nhs_specials or none (untreated registry-only "
        "comparator); empty if not enrolled.",
        "Enrolment.route",
    ),
    _c("sex", "category", "", "male or female.", "Patient.sex"),
    _c(
        "age_at_enrolment",
        "integer",
        "years",
        "Whole years from birth to enrolment. Only the year of birth is "
        "used (birth taken as 1 July of that year), so the age may differ from the exact one by one year.",
        "Patient.year_of_birth, Enrolment.enrolment_date",
    ),
    _c(
        "age_at_onset",
        "integer",
        "years",
        "Completed years from birth to symptom onset: from the date of birth where the identity holds "
        "it, else from 1 July of the year of birth.",
        "PatientIdentity.date_of_birth, Patient.year_of_birth, Diagnosis.symptom_onset_date",
    ),
    _c(
        "onset_region",
        "category",
        "",
        "Region of first symptoms: bulbar, upper_limb, lower_limb, respiratory, generalised.",
        "Diagnosis.onset_region",
    ),
    _c("bulbar_onset", "boolean", "", "True when onset_region is bulbar.", "Diagnosis.onset_region"),
    _c(
        "el_escorial",
        "category",
        "",
        "Revised El Escorial category: possible, probable_lab_supported, probable, definite.",
        "Diagnosis.el_escorial",
    ),
    _c(
        "diagnostic_delay_months",
        "number",
        "months",
        "Symptom onset to diagnosis, days / 30.4375.",
        "Diagnosis.symptom_onset_date, Diagnosis.diagnosis_date",
    ),
    _c(
        "symptom_duration_months",
        "number",
        "months",
        "Symptom onset to enrolment, days / 30.4375 (the MIROCALS criterion is ≤ 24).",
        "Diagnosis.symptom_onset_date, Enrolment.enrolment_date",
    ),
    _c(
        "alsfrs_r_baseline",
        "integer",
        "points (0-48)",
        "ALSFRS-R total of the assessment nearest the time origin, "
        "from 90 days before to 14 days after it; on a tie the earlier assessment. Empty if none in the window.",
        "AlsfrsrAssessment.total",
    ),
    _c(
        "dfs_baseline",
        "number",
        "points/month",
        "ΔFS at baseline (Kimura 2006): (48 − alsfrs_r_baseline) / months "
        "from symptom onset to that assessment (days / 30.4375). Positive means decline.",
        "AlsfrsrAssessment, Diagnosis.symptom_onset_date",
    ),
    _c(
        "svc_baseline",
        "number",
        "% predicted",
        "Slow vital capacity recorded with the diagnosis and baseline.",
        "Diagnosis.svc_percent",
    ),
    _c(
        "alsfrs_r_diagnosis",
        "integer",
        "points",
        "ALSFRS-R total at diagnosis: as recorded with the diagnosis, else the assessment nearest the "
        "diagnosis date within 90 days either side; empty otherwise.",
        "Diagnosis.alsfrsr_total_at_diagnosis, AlsfrsrAssessment.total",
    ),
    _c(
        "dfs_diagnosis",
        "number",
        "points/month",
        "ΔFS at diagnosis (Kimura 2006), the ENCALS predictor: (48 − alsfrs_r_diagnosis) / months from "
        "symptom onset to that score (days / 30.4375).",
        "Diagnosis.alsfrsr_total_at_diagnosis, AlsfrsrAssessment, Diagnosis.symptom_onset_date",
    ),
    _c(
        "fvc_diagnosis",
        "number",
        "% predicted",
        "Forced vital capacity at diagnosis (the ENCALS predictor), as recorded with the diagnosis.",
        "Diagnosis.fvc_percent",
    ),
    _c(
        "csf_pnfh_baseline",
        "number",
        "pg/mL",
        "CSF pNFH result nearest enrolment, from 90 days before to 30 days "
        "after it; on a tie (same distance before and after) the earlier sample. Empty if none in the window. "
        "Thresholds depend on the assay (see the biomarkers table).",
        "BiomarkerResult (analyte csf_pnfh)",
    ),
    _c(
        "pnfh_stratum",
        "category",
        "",
        "MIROCALS stratum of csf_pnfh_baseline: below_750 (< 750), low (750 to 3700 "
        "inclusive), high (> 3700) or missing.",
        "csf_pnfh_baseline",
    ),
    _c(
        "c9orf72",
        "category",
        "",
        "C9orf72 repeat expansion: positive, negative or unknown; empty if not recorded.",
        "Diagnosis.c9orf72",
    ),
    _c("ftd", "category", "", "Frontotemporal dementia: yes, no or unknown; empty if not recorded.", "Diagnosis.ftd"),
    _c(
        "meets_mirocals_criteria",
        "boolean",
        "",
        "All MIROCALS eligibility criteria met at enrolment (age 18 to "
        "under 76, symptoms ≤ 24 months, SVC ≥ 70 %, El Escorial category, riluzole).",
        "Enrolment.meets_mirocals_criteria",
    ),
    _c(
        "cycles_received",
        "integer",
        "cycles",
        "Treatment cycles with at least one dose administered; 0 when untreated.",
        "TreatmentCycle.days_administered",
    ),
    _c(
        "dose_intensity",
        "number",
        "ratio",
        "Total MIU administered / (10 MIU × cycles planned), where cycles "
        "planned = floor((end of follow-up − first dose) / 28 days) + 1 and end of follow-up is death or last "
        "known alive. 1 means full protocol dosing; empty when there is no first dose.",
        "TreatmentCycle.total_dose_miu, Enrolment.first_dose_date",
    ),
    _c(
        "time_origin_date",
        "date",
        "",
        "First dose date; enrolment date when there is no first dose.",
        "Enrolment.first_dose_date, Enrolment.enrolment_date",
    ),
    _c(
        "os_time_days",
        "integer",
        "days",
        "Time origin to death, or to the last known alive date when alive "
        "(see the module rules: the latest dated record showing the patient alive).",
        "ClinicalEvent, all dated records",
    ),
    _c("os_event", "integer", "0/1", "1 = died, 0 = censored alive.", "ClinicalEvent (death)"),
    _c(
        "composite_time_days",
        "integer",
        "days",
        "Time origin to the first of death, tracheostomy or permanent "
        "ventilation, or to last known alive. Empty when such an event precedes the origin (never at risk).",
        "ClinicalEvent",
    ),
    _c(
        "composite_event",
        "integer",
        "0/1",
        "1 = death, tracheostomy or permanent ventilation, 0 = censored.",
        "ClinicalEvent",
    ),
    _c(
        "alsfrs_r_slope_per_month",
        "number",
        "points/month",
        "Ordinary least-squares slope of ALSFRS-R total on "
        "months (days / 30.4375) over assessments from 90 days before the time origin on; needs at least two "
        "assessment dates. Negative means decline.",
        "AlsfrsrAssessment.total",
    ),
)
PATIENT_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in PATIENT_COLUMNS)

_ID = _c(
    "patient_id",
    "string",
    "",
    "Pseudonymous study id; joins to the patients table.",
    "Patient.study_id",
    formula_safe=True,
)

_ITEMS = (
    ("q1_speech", "1. Speech"),
    ("q2_salivation", "2. Salivation"),
    ("q3_swallowing", "3. Swallowing"),
    ("q4_handwriting", "4. Handwriting"),
    ("q5a_cutting_without_gastrostomy", "5a. Cutting food (no gastrostomy); empty when 5b is scored"),
    ("q5b_cutting_with_gastrostomy", "5b. Cutting food (with gastrostomy); empty when 5a is scored"),
    ("q6_dressing_hygiene", "6. Dressing and hygiene"),
    ("q7_turning_in_bed", "7. Turning in bed"),
    ("q8_walking", "8. Walking"),
    ("q9_climbing_stairs", "9. Climbing stairs"),
    ("q10_dyspnoea", "10. Dyspnoea"),
    ("q11_orthopnoea", "11. Orthopnoea"),
    ("q12_respiratory_insufficiency", "12. Respiratory insufficiency"),
)

LONG_TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "alsfrs_r": (
        _ID,
        _c("assessment_date", "date", "", "Date of the ALSFRS-R assessment.", "AlsfrsrAssessment.assessment_date"),
        *(
            _c(name, "integer", "points (0-4)", f"Item {label}; 4 is normal.", f"AlsfrsrAssessment.{name}")
            for name, label in _ITEMS
        ),
        _c("total", "integer", "points (0-48)", "Sum of the 12 scored items (derived).", "AlsfrsrAssessment.total"),
        _c("bulbar", "integer", "points (0-12)", "Items 1-3 (derived).", "AlsfrsrAssessment.bulbar"),
        _c("fine_motor", "integer", "points (0-12)", "Items 4, 5a/5b, 6 (derived).", "AlsfrsrAssessment.fine_motor"),
        _c("gross_motor", "integer", "points (0-12)", "Items 7-9 (derived).", "AlsfrsrAssessment.gross_motor"),
        _c("respiratory", "integer", "points (0-12)", "Items 10-12 (derived).", "AlsfrsrAssessment.respiratory"),
        _c(
            "kings_stage",
            "category",
            "",
            "King's stage from ALSFRS-R (Balendra 2014): 1, 2, 3, 4A, 4B (derived).",
            "AlsfrsrAssessment.kings_stage",
        ),
        _c(
            "mitos_stage",
            "integer",
            "stage (0-4)",
            "MiToS stage (Chiò 2015) (derived).",
            "AlsfrsrAssessment.mitos_stage",
        ),
        _c(
            "delta_fs",
            "number",
            "points/month",
            "ΔFS at this assessment: (48 − total) / months since onset.",
            "AlsfrsrAssessment.delta_fs",
        ),
    ),
    "biomarkers": (
        _ID,
        _c("sample_date", "date", "", "Date the sample was taken.", "BiomarkerResult.sample_date"),
        _c(
            "analyte",
            "category",
            "",
            "csf_pnfh, serum_nfl, plasma_nfl, treg_percent_cd4, plasma_ccl2, csf_ccl2.",
            "BiomarkerResult.analyte",
        ),
        _c(
            "value",
            "number",
            "canonical unit",
            "Result in the analyte's canonical unit (pg/mL, or % for Tregs).",
            "BiomarkerResult.value",
        ),
        _c("unit", "category", "", "Canonical unit of value.", "BiomarkerResult.unit"),
        _c(
            "reported_value",
            "number",
            "reported unit",
            "Result as reported by the laboratory.",
            "BiomarkerResult.reported_value",
        ),
        _c("reported_unit", "category", "", "Unit as reported.", "BiomarkerResult.reported_unit"),
        _c("assay", "string", "", "Kit or method; pNFH thresholds depend on it.", "BiomarkerResult.assay"),
        _c("laboratory", "string", "", "Laboratory.", "BiomarkerResult.laboratory"),
    ),
    "cycles": (
        _ID,
        _c("cycle_number", "integer", "", "Cycle number, 1 at the first dose.", "TreatmentCycle.cycle_number"),
        _c("start_date", "date", "", "Day 1 of the 28-day cycle.", "TreatmentCycle.start_date"),
        _c("planned_dose_miu", "number", "MIU/day", "Planned daily dose.", "TreatmentCycle.planned_dose_miu"),
        _c("days_administered", "integer", "days (0-5)", "Dosing days given.", "TreatmentCycle.days_administered"),
        _c("total_dose_miu", "number", "MIU", "Total dose given in the cycle.", "TreatmentCycle.total_dose_miu"),
        _c("interrupted", "boolean", "", "Doses were missed or the cycle stopped early.", "TreatmentCycle.interrupted"),
    ),
    "dispensing": (
        _ID,
        _c("cycle_number", "integer", "", "Cycle supplied.", "TreatmentCycle.cycle_number"),
        _c("dispensed_on", "date", "", "Date of supply.", "Dispensing.dispensed_on"),
        _c("product", "category", "", "ilt_101 or proleukin_specials.", "Product.code"),
        _c("batch_number", "string", "", "Batch supplied (traceability, reg. 170).", "Batch.batch_number"),
        _c("quantity", "integer", "units", "Units supplied.", "Dispensing.quantity"),
        _c("quantity_unit", "category", "", "syringe or vial.", "Dispensing.quantity_unit"),
        _c("dose_miu_per_unit", "number", "MIU", "Dose per unit.", "Dispensing.dose_miu_per_unit"),
        _c("cold_chain_confirmed", "boolean", "", "2-8 °C confirmed at supply.", "Dispensing.cold_chain_confirmed"),
        _c(
            "cold_chain_temperature_c",
            "number",
            "°C",
            "Fridge reading at supply.",
            "Dispensing.cold_chain_temperature_c",
        ),
    ),
    "adverse_events": (
        _ID,
        _c("term", "string", "", "Verbatim or CTCAE term.", "AdverseEvent.term"),
        _c(
            "meddra_llt_code",
            "string",
            "",
            "MedDRA lowest level term code, when coded.",
            "AdverseEvent.meddra_llt_code",
        ),
        _c("onset_date", "date", "", "Onset.", "AdverseEvent.onset_date"),
        _c("resolution_date", "date", "", "Resolution; empty if ongoing.", "AdverseEvent.resolution_date"),
        _c("ctcae_grade", "integer", "grade (1-5)", "CTCAE v5 severity grade.", "AdverseEvent.ctcae_grade"),
        _c("serious", "boolean", "", "Serious by ICH E2A criteria (not the same as severe).", "AdverseEvent.serious"),
        _c("relatedness", "category", "", "Relatedness to IL-2LD.", "AdverseEvent.relatedness"),
        _c("action_taken", "category", "", "Action taken with treatment.", "AdverseEvent.action_taken"),
        _c("outcome", "category", "", "Outcome.", "AdverseEvent.outcome"),
    ),
    "events": (
        _ID,
        _c(
            "event_type",
            "category",
            "",
            "death, tracheostomy, permanent_ventilation, niv_start, gastrostomy, "
            "withdrawal, lost_to_follow_up, last_known_alive.",
            "ClinicalEvent.event_type",
        ),
        _c("event_date", "date", "", "Date of the event.", "ClinicalEvent.event_date"),
    ),
}

TABLES: dict[str, tuple[Column, ...]] = {"patients": PATIENT_COLUMNS, **LONG_TABLE_COLUMNS}
TABLE_DESCRIPTIONS: dict[str, str] = {
    "patients": "One row per patient: baseline covariates, exposure and survival outcomes.",
    "alsfrs_r": "One row per ALSFRS-R assessment, with items and derived scores and stages.",
    "biomarkers": "One row per biomarker result.",
    "cycles": "One row per treatment cycle.",
    "dispensing": "One row per supply of product (batch traceability).",
    "adverse_events": "One row per adverse event.",
    "events": "One row per clinical event (death, tracheostomy, ventilation, withdrawal, …).",
}
DICTIONARY_FIELDS: tuple[str, ...] = ("table", "column", "type", "unit", "definition", "source")


# ---- the data dictionary --------------------------------------------------------------------
def dictionary_rows(tables: Iterable[str] | None = None) -> list[dict[str, str]]:
    names = list(tables) if tables is not None else list(TABLES)
    return [
        {
            "table": table,
            "column": c.name,
            "type": c.type,
            "unit": c.unit,
            "definition": c.definition,
            "source": c.source,
        }
        for table in names
        for c in TABLES[table]
    ]


def dictionary_markdown(tables: Sequence[str] | None = None) -> str:
    """The data dictionary as Markdown, one section per table (generated; do not edit by hand)."""
    names = list(tables) if tables is not None else list(TABLES)
    lines = [
        "# Data dictionary: IL-2LD ALS/MND registry analysis-ready dataset",
        "",
        "Generated from `analytics/dataset.py` (the one declarative spec). Pseudonymised: no names, NHS numbers "
        "or birth dates; ages in whole years.",
    ]
    for table in names:
        lines += [
            "",
            f"## {table}",
            "",
            TABLE_DESCRIPTIONS[table],
            "",
            "| column | type | unit | definition | source |",
            "|---|---|---|---|---|",
        ]
        for c in TABLES[table]:
            cells = [f"`{c.name}`", c.type, c.unit, c.definition, c.source]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
