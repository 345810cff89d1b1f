"""The analysis-ready dataset's derivations, on hand-worked cases (pure pandas, no database)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pandas as pd
import pytest

from analytics import dataset

D = dt.date
ORIGIN = D(2025, 7, 15)  # first dose


def _patient(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "pk": 1,
        "patient_id": "GB-LON-0001",
        "site_code": "GB-LON",
        "sex": "male",
        "year_of_birth": 1960,
        "route": "nhs_specials",
        "enrolment_date": D(2025, 7, 1),
        "first_dose_date": ORIGIN,
        "meets_mirocals_criteria": True,
        "symptom_onset_date": D(2024, 7, 15),
        "diagnosis_date": D(2025, 1, 15),
        "onset_region": "bulbar",
        "el_escorial": "definite",
        "svc_percent": 85.0,
        "fvc_percent": 90.0,
        "alsfrsr_total_at_diagnosis": None,
        "date_of_birth": None,
        "c9orf72": "negative",
        "ftd": "",
    }
    row.update(overrides)
    return row


def build(
    patient: dict[str, object] | None = None,
    *,
    alsfrs: Sequence[tuple[dt.date, int]] = (),
    pnfh: Sequence[tuple[dt.date, float]] = (),
    events: Sequence[tuple[str, dt.date]] = (),
    cycles: Sequence[tuple[dt.date, int, float]] = (),
    alive: Sequence[dt.date] = (),
) -> dict[str, object]:
    """The dataset row of one patient (pk 1) built from the given records."""
    frame = dataset.build_patient_dataset(
        patients=pd.DataFrame([patient or _patient()]),
        alsfrs=pd.DataFrame([(1, d, t) for d, t in alsfrs], columns=["pk", "date", "total"]),
        pnfh=pd.DataFrame([(1, d, v) for d, v in pnfh], columns=["pk", "date", "value"]),
        events=pd.DataFrame([(1, e, d) for e, d in events], columns=["pk", "event_type", "date"]),
        cycles=pd.DataFrame(
            [(1, d, n, m) for d, n, m in cycles], columns=["pk", "start_date", "days_administered", "total_dose_miu"]
        ),
        alive_dates=pd.DataFrame([(1, d) for d in alive], columns=["pk", "date"]),
    )
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def _missing(value: object) -> bool:
    return value is pd.NA or value is None or (isinstance(value, float) and math.isnan(value))


# ---- columns ----------------------------------------------------------------------------------
def test_the_dataset_has_exactly_the_issue_columns_in_order():
    frame = dataset.build_patient_dataset(
        patients=pd.DataFrame([_patient()]),
        **{name: pd.DataFrame(columns=list(c)) for name, c in dataset.INPUT_COLUMNS.items() if name != "patients"},
    )
    assert list(frame.columns) == [
        "patient_id",
        "site_code",
        "route",
        "sex",
        "age_at_enrolment",
        "age_at_onset",
        "onset_region",
        "bulbar_onset",
        "el_escorial",
        "diagnostic_delay_months",
        "symptom_duration_months",
        "alsfrs_r_baseline",
        "dfs_baseline",
        "svc_baseline",
        "alsfrs_r_diagnosis",
        "dfs_diagnosis",
        "fvc_diagnosis",
        "csf_pnfh_baseline",
        "pnfh_stratum",
        "c9orf72",
        "ftd",
        "meets_mirocals_criteria",
        "cycles_received",
        "dose_intensity",
        "time_origin_date",
        "os_time_days",
        "os_event",
        "composite_time_days",
        "composite_event",
        "alsfrs_r_slope_per_month",
    ]


# ---- time origin --------------------------------------------------------------------------------
def test_the_time_origin_is_the_first_dose():
    assert build()["time_origin_date"] == ORIGIN


def test_the_time_origin_of_an_untreated_patient_is_enrolment():
    row = build(_patient(route="none", first_dose_date=None))
    assert row["time_origin_date"] == D(2025, 7, 1)


def test_a_patient_never_enrolled_has_no_origin_and_no_survival_times():
    row = build(_patient(route=None, enrolment_date=None, first_dose_date=None, meets_mirocals_criteria=None))
    assert _missing(row["time_origin_date"]) and _missing(row["os_time_days"]) and _missing(row["os_event"])


# ---- overall survival and censoring ---------------------------------------------------------------
def test_death_is_the_os_event_counted_from_the_first_dose():
    row = build(events=[("death", D(2025, 10, 13))])
    assert (row["os_time_days"], row["os_event"]) == (90, 1)


def test_an_alive_patient_is_censored_at_the_latest_dated_record():
    # ALSFRS-R on 1 Dec, a last-known-alive contact on 1 Nov, an adverse event resolving 10 Jan:
    # the latest is 10 Jan 2026, 179 days after the first dose.
    row = build(
        alsfrs=[(D(2025, 12, 1), 40)],
        events=[("last_known_alive", D(2025, 11, 1))],
        alive=[D(2026, 1, 10)],
    )
    assert (row["os_time_days"], row["os_event"]) == (179, 0)


def test_a_last_known_alive_event_later_than_any_record_sets_the_censoring_date():
    row = build(alsfrs=[(D(2025, 8, 1), 40)], events=[("last_known_alive", D(2025, 9, 14))])
    assert row["os_time_days"] == 61


def test_withdrawal_is_a_contact_not_an_event():
    row = build(events=[("withdrawal", D(2025, 8, 14))])
    assert (row["os_time_days"], row["os_event"], row["composite_event"]) == (30, 0, 0)


def test_a_patient_with_no_record_after_the_first_dose_is_censored_at_time_zero():
    assert (build()["os_time_days"], build()["os_event"]) == (0, 0)


# ---- composite ------------------------------------------------------------------------------------
def test_the_composite_takes_the_first_of_tracheostomy_ventilation_and_death():
    row = build(
        events=[
            ("permanent_ventilation", D(2025, 9, 23)),
            ("tracheostomy", D(2025, 9, 13)),
            ("death", D(2025, 10, 13)),
        ]
    )
    assert (row["composite_time_days"], row["composite_event"]) == (60, 1)
    assert (row["os_time_days"], row["os_event"]) == (90, 1)


def test_niv_and_gastrostomy_are_not_composite_events():
    row = build(events=[("niv_start", D(2025, 8, 14)), ("gastrostomy", D(2025, 8, 24))])
    assert (row["composite_time_days"], row["composite_event"]) == (40, 0)


def test_death_alone_is_a_composite_event():
    row = build(events=[("death", D(2025, 10, 13))])
    assert (row["composite_time_days"], row["composite_event"]) == (90, 1)


def test_ventilation_before_the_origin_leaves_the_patient_out_of_the_composite():
    row = build(events=[("permanent_ventilation", D(2025, 7, 10)), ("death", D(2025, 10, 13))])
    assert _missing(row["composite_time_days"]) and _missing(row["composite_event"])
    assert (row["os_time_days"], row["os_event"]) == (90, 1)


# ---- pNFH ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "stratum"),
    [(749.99, "below_750"), (750.0, "low"), (3700.0, "low"), (3700.01, "high"), (float("nan"), "missing")],
)
def test_pnfh_strata_boundaries_follow_mirocals(value, stratum):
    assert dataset.pnfh_stratum(pd.Series([value])).iloc[0] == stratum


@pytest.mark.parametrize(
    ("days_from_enrolment", "included"), [(-91, False), (-90, True), (0, True), (30, True), (31, False)]
)
def test_the_pnfh_window_runs_from_90_days_before_to_30_days_after_enrolment(days_from_enrolment, included):
    sample = D(2025, 7, 1) + dt.timedelta(days=days_from_enrolment)
    row = build(pnfh=[(sample, 2000.0)])
    assert (row["csf_pnfh_baseline"] == 2000.0) is included
    assert row["pnfh_stratum"] == ("low" if included else "missing")


def test_the_pnfh_nearest_to_enrolment_is_taken():
    row = build(pnfh=[(D(2025, 6, 21), 900.0), (D(2025, 7, 6), 4000.0)])  # 10 days before, 5 after
    assert (row["csf_pnfh_baseline"], row["pnfh_stratum"]) == (4000.0, "high")


def test_a_pnfh_tie_goes_to_the_earlier_sample():
    row = build(pnfh=[(D(2025, 7, 11), 4000.0), (D(2025, 6, 21), 900.0)])  # 10 days after, 10 before
    assert row["csf_pnfh_baseline"] == 900.0


# ---- baseline ALSFRS-R and ΔFS --------------------------------------------------------------------
def test_the_baseline_alsfrs_r_is_the_nearest_to_the_origin_within_the_window():
    row = build(alsfrs=[(D(2025, 4, 5), 45), (D(2025, 6, 15), 40), (D(2025, 7, 25), 38)])  # -101, -30, +10 days
    assert row["alsfrs_r_baseline"] == 38


def test_an_alsfrs_r_more_than_14_days_after_the_origin_is_not_a_baseline():
    row = build(alsfrs=[(D(2025, 7, 30), 38)])
    assert _missing(row["alsfrs_r_baseline"]) and _missing(row["dfs_baseline"])


def test_a_baseline_alsfrs_r_tie_goes_to_the_earlier_assessment():
    row = build(alsfrs=[(D(2025, 7, 22), 38), (D(2025, 7, 8), 41)])  # +7 and -7 days
    assert row["alsfrs_r_baseline"] == 41


def test_dfs_is_points_lost_per_month_from_onset_to_the_baseline_assessment():
    # Onset 15 Jul 2024, baseline 36 on 15 Jul 2025: 12 points over 365 days = 11.99 months.
    row = build(alsfrs=[(ORIGIN, 36)])
    assert row["dfs_baseline"] == pytest.approx(12 / (365 / 30.4375), abs=1e-4)
    assert row["dfs_baseline"] == pytest.approx(1.0007, abs=1e-4)


def test_dfs_is_empty_when_the_assessment_is_not_after_onset():
    row = build(_patient(symptom_onset_date=ORIGIN), alsfrs=[(ORIGIN, 36)])
    assert _missing(row["dfs_baseline"])


def test_dfs_at_diagnosis_uses_the_total_recorded_with_the_diagnosis():
    # Onset 15 Jul 2024, 42 at diagnosis on 15 Jan 2025 (184 days): 6 points over 6.05 months.
    row = build(_patient(alsfrsr_total_at_diagnosis=42), alsfrs=[(D(2025, 1, 20), 30)])
    assert row["alsfrs_r_diagnosis"] == 42
    assert row["dfs_diagnosis"] == pytest.approx(6 / (184 / 30.4375), abs=1e-4)


def test_dfs_at_diagnosis_falls_back_to_the_assessment_nearest_the_diagnosis_within_90_days():
    row = build(alsfrs=[(D(2025, 3, 1), 40), (D(2025, 7, 1), 35)])  # 45 and 167 days after diagnosis
    assert row["alsfrs_r_diagnosis"] == 40
    assert row["dfs_diagnosis"] == pytest.approx(8 / (229 / 30.4375), abs=1e-4)


def test_dfs_at_diagnosis_is_empty_without_a_score_near_the_diagnosis():
    row = build(alsfrs=[(D(2025, 7, 1), 35)])
    assert _missing(row["alsfrs_r_diagnosis"]) and _missing(row["dfs_diagnosis"])


def test_the_age_at_onset_comes_from_the_date_of_birth_where_the_identity_holds_it():
    # Born 20 Jul 1960, onset 15 Jul 2024: 63 completed years (the 1 July assumption says 64).
    assert build(_patient(date_of_birth=D(1960, 7, 20)))["age_at_onset"] == 63
    assert build()["age_at_onset"] == 64


# ---- slope -----------------------------------------------------------------------------------------
def test_the_slope_is_the_least_squares_fit_per_month():
    # 40, 38, 36 at 0, 61 and 122 days: 2 points per 61 days = -0.998 points/month.
    row = build(alsfrs=[(ORIGIN, 40), (D(2025, 9, 14), 38), (D(2025, 11, 14), 36)])
    assert row["alsfrs_r_slope_per_month"] == pytest.approx(-2 / (61 / 30.4375), abs=1e-4)


def test_the_slope_fits_unequal_spacing_by_least_squares():
    # t = 0, 1, 3 months (0, 30.4375·1, ·3 days rounded) with y = 40, 40, 37: hand-worked OLS slope.
    t = [0, 30, 91]
    y = [40, 40, 37]
    visits = [(ORIGIN + dt.timedelta(days=d), v) for d, v in zip(t, y, strict=True)]
    months = [d / 30.4375 for d in t]
    mean_t, mean_y = sum(months) / 3, sum(y) / 3
    expected = sum((a - mean_t) * (b - mean_y) for a, b in zip(months, y, strict=True)) / sum(
        (a - mean_t) ** 2 for a in months
    )
    assert build(alsfrs=visits)["alsfrs_r_slope_per_month"] == pytest.approx(expected, abs=1e-4)


def test_the_slope_needs_two_assessments():
    assert _missing(build(alsfrs=[(ORIGIN, 40)])["alsfrs_r_slope_per_month"])


def test_the_slope_ignores_assessments_before_the_baseline_window():
    row = build(alsfrs=[(D(2024, 12, 1), 47), (ORIGIN, 40), (D(2025, 9, 14), 38)])
    assert row["alsfrs_r_slope_per_month"] == pytest.approx(-2 / (61 / 30.4375), abs=1e-4)


# ---- covariates and exposure -------------------------------------------------------------------------
@pytest.mark.parametrize(("enrolled", "age"), [(D(2025, 7, 1), 65), (D(2025, 6, 30), 64)])
def test_ages_are_whole_years_from_the_first_of_july_of_the_year_of_birth(enrolled, age):
    assert build(_patient(enrolment_date=enrolled, first_dose_date=None))["age_at_enrolment"] == age


def test_diagnostic_delay_and_symptom_duration_are_in_months():
    row = build()
    assert row["diagnostic_delay_months"] == pytest.approx(184 / 30.4375, abs=0.01)
    assert row["symptom_duration_months"] == pytest.approx(351 / 30.4375, abs=0.01)


def test_bulbar_onset_follows_the_onset_region():
    assert build()["bulbar_onset"] is True
    assert build(_patient(onset_region="lower_limb"))["bulbar_onset"] is False


def test_dose_intensity_is_miu_given_over_10_miu_per_planned_cycle():
    # First dose 15 Jul, censored 13 Oct (90 days): floor(90/28)+1 = 4 cycles planned, 40 MIU.
    cycles = [(ORIGIN, 5, 10.0), (D(2025, 8, 12), 5, 10.0), (D(2025, 9, 9), 5, 10.0), (D(2025, 10, 7), 3, 6.0)]
    row = build(cycles=cycles, events=[("last_known_alive", D(2025, 10, 13))])
    assert row["cycles_received"] == 4
    assert row["dose_intensity"] == pytest.approx(36 / 40)


def test_an_untreated_patient_has_no_dose_intensity_and_no_cycles():
    row = build(_patient(route="none", first_dose_date=None))
    assert row["cycles_received"] == 0 and _missing(row["dose_intensity"])


def test_a_cycle_with_no_dose_given_is_not_counted_as_received():
    row = build(cycles=[(ORIGIN, 5, 10.0), (D(2025, 8, 12), 0, 0.0)])
    assert row["cycles_received"] == 1


def test_missing_genetics_are_empty_not_blank_text():
    assert _missing(build()["ftd"])
    assert build()["c9orf72"] == "negative"
