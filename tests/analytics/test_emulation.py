"""Target-trial emulation (docs/sap.md): time zero, eligibility at first dose, cut-off, flow, Table 1."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from access_programme.eligibility import EligibilityInput, unmet_mirocals_criteria
from analytics.emulation import (
    CRITERIA,
    EmulationParameters,
    analysis_sets,
    patient_flow,
    pre_dose_samples,
    prepare_cohort,
    table_one,
    unmet_at_time_zero,
)
from tests.analytics.synthetic import synthetic_dataset

pytestmark = pytest.mark.requirement("STA-03")

CUTOFF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def patients() -> pd.DataFrame:
    return synthetic_dataset(n=400, seed=5)[0]


@pytest.fixture(scope="module")
def cohort(patients) -> pd.DataFrame:
    return prepare_cohort(patients, EmulationParameters(data_cutoff=CUTOFF))


def test_never_dosed_patients_are_in_the_flow_but_in_no_analysis_set(patients):
    data = patients.copy()
    data.loc[:9, "route"] = "managed_access"
    data.loc[:9, "first_dose_date"] = pd.NaT
    cohort = prepare_cohort(data, EmulationParameters(data_cutoff=CUTOFF))
    analysed = pd.concat(analysis_sets(cohort).values())
    assert not analysed["patient_id"].isin(data.loc[:9, "patient_id"]).any()
    dosed_step = next(s for s in patient_flow(cohort) if s["step"].startswith("Dosed"))
    assert {"reason": "never dosed", "n": 10} in dosed_step["excluded"]


def test_registry_only_comparators_have_no_time_zero_and_are_not_analysed_as_treated(cohort):
    analysed = pd.concat(analysis_sets(cohort).values())
    assert (analysed["route"] != "none").all()


def test_eligibility_at_first_dose_agrees_with_the_enrolment_rules_evaluated_on_that_date():
    rng = np.random.default_rng(8)
    n = 300
    dose = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    frame = pd.DataFrame(
        {
            "first_dose_date": dose,
            "year_of_birth": rng.integers(1940, 2010, n).astype(float),
            "symptom_onset_date": dose - pd.to_timedelta(rng.integers(100, 1000, n), unit="D"),
            "svc_baseline": rng.choice([55.0, 69.9, 70.0, 95.0, np.nan], n),
            "el_escorial": rng.choice(["definite", "possible", "suspected", None], n),
            "riluzole_start_date": (dose + pd.to_timedelta(rng.integers(-200, 20, n), unit="D")).where(
                rng.random(n) > 0.1
            ),
        }
    )
    vectorised = unmet_at_time_zero(frame)
    for i, row in frame.iterrows():
        on = row["first_dose_date"].date()
        expected = unmet_mirocals_criteria(
            EligibilityInput(
                enrolment_date=on,
                age_years=int(on.year - row["year_of_birth"] - 1),
                symptom_onset_date=row["symptom_onset_date"].date(),
                svc_percent=None if np.isnan(row["svc_baseline"]) else Decimal(str(row["svc_baseline"])),
                el_escorial=row["el_escorial"],
                riluzole_start_date=None if pd.isna(row["riluzole_start_date"]) else row["riluzole_start_date"].date(),
            )
        )
        assert {u.code for u in expected} == {c for c in CRITERIA if vectorised.loc[i, c]}, i


def test_the_primary_set_is_eligible_at_first_dose_and_all_treated_contains_it(cohort):
    sets = analysis_sets(cohort)
    assert sets["primary"]["eligible_t0"].all()
    assert set(sets["primary"]["patient_id"]) < set(sets["all_treated"]["patient_id"])


def test_follow_up_is_censored_at_the_data_cut_off(patients):
    data = patients[patients["route"] != "none"].head(1).copy()
    data["first_dose_date"] = pd.Timestamp("2026-06-01")
    data["os_time_days"], data["os_event"] = 100, True
    cohort = prepare_cohort(data, EmulationParameters(data_cutoff=CUTOFF))
    assert cohort["os_days"].iloc[0] == 29 and cohort["os_event"].iloc[0] == 0


def test_first_doses_after_the_cut_off_are_counted_out(patients):
    cohort = prepare_cohort(patients, EmulationParameters(data_cutoff=dt.date(2024, 1, 1)))
    step = next(s for s in patient_flow(cohort) if s["step"].startswith("First dose on or before"))
    late = int((cohort["dosed"] & (pd.to_datetime(cohort["first_dose_date"]) > pd.Timestamp("2024-01-01"))).sum())
    assert step["excluded"] == [{"reason": "first dose after the cut-off", "n": late}]


def test_the_trial_comparison_stops_at_640_days(cohort):
    assert cohort["os_days_h"].max() <= 640
    late = cohort["os_days"] > 640
    assert (cohort.loc[late, "os_event_h"] == 0).all()


def test_unknown_sex_and_onset_site_stay_missing(patients):
    data = patients.copy()
    data.loc[0, "sex"] = None
    data["bulbar_onset"] = data["bulbar_onset"].astype("boolean")
    data.loc[1, "bulbar_onset"] = pd.NA
    cohort = prepare_cohort(data, EmulationParameters(data_cutoff=CUTOFF))
    assert np.isnan(cohort.loc[0, "male"]) and np.isnan(cohort.loc[1, "bulbar"])


def test_baseline_pnfh_comes_only_from_samples_before_the_first_dose():
    dose = pd.Series(pd.to_datetime(["2025-03-01", "2025-03-01"]), index=[1, 2])
    samples = pd.DataFrame(
        {
            "pk": [1, 1, 1, 2],
            "date": pd.to_datetime(["2025-03-02", "2025-02-20", "2024-10-01", "2025-03-10"]),
            "value": [5000.0, 1200.0, 900.0, 800.0],
            "assay": ["A", "B", "C", "D"],
        }
    )
    baseline = pre_dose_samples(dose, samples)
    assert baseline.loc[1, "value"] == 1200.0 and baseline.loc[1, "assay"] == "B"
    assert 2 not in baseline.index  # its only sample is after the first dose


def test_each_flow_step_loses_exactly_the_patients_it_names(cohort):
    flow = patient_flow(cohort, withheld=7)
    assert flow[0]["n"] == len(cohort) + 7
    for before, after in itertools.pairwise(flow[:-1]):
        assert before["n"] - sum(e["n"] for e in after["excluded"]) == after["n"]
    assert flow[-2]["n"] - flow[-1]["n_not_eligible"] == flow[-1]["n"]
    assert {"reason": "consent refuses use of data", "n": 7} in flow[1]["excluded"]


def test_eligible_patients_with_a_short_riluzole_run_in_are_reported(cohort):
    flow = patient_flow(cohort)
    primary = analysis_sets(cohort)["primary"]
    expected = int((primary["riluzole_days_t0"] < 84).sum())
    assert flow[-1]["riluzole_run_in_shorter_than_12_weeks"] == expected


def test_table_one_is_by_route_beside_the_known_mirocals_values(cohort):
    table = table_one(analysis_sets(cohort)["primary"])
    assert set(table["groups"]) == {"all", "managed_access", "nhs_specials"}
    age = next(r for r in table["rows"] if r["column"] == "age_at_enrolment")
    assert age["mirocals"] == 60.0 and age["groups"]["all"]["median"] > 0
    male = next(r for r in table["rows"] if r["column"] == "male")
    assert male["mirocals"] == 62.0 and 0 <= male["groups"]["nhs_specials"]["percent"] <= 100
