"""A synthetic analysis dataset with the columns the suite and the trial emulation read."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def synthetic_dataset(n: int = 400, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    route = rng.choice(["managed_access", "nhs_specials", "none"], size=n, p=[0.35, 0.45, 0.2])
    pnfh = rng.lognormal(np.log(2000), 0.6, size=n)
    hazard = 1 / 900 * np.where(route == "none", 1.0, 0.7) * (pnfh / 2000) ** 0.5
    death = rng.exponential(1 / hazard)
    censor = rng.uniform(100, 800, size=n)
    os_time = np.minimum(death, censor).round()
    # First doses spread over 2023-2025; registry-only comparators (route none) have none.
    first_dose = pd.Series(pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"))
    first_dose = first_dose.where(route != "none")
    enrolment = (first_dose - pd.Timedelta(days=14)).fillna(pd.Timestamp("2023-06-01"))
    onset_months = rng.uniform(8, 24, n)
    patients = pd.DataFrame(
        {
            "patient_id": [f"GB-TST-{i:04d}" for i in range(n)],
            "route": route,
            "sex": rng.choice(["male", "female"], size=n),
            "bulbar_onset": rng.random(n) < 0.3,
            "age_at_enrolment": rng.normal(60, 9, n).round(),
            "age_at_onset": rng.normal(59, 9, n).round(),
            "dfs_baseline": rng.lognormal(np.log(0.6), 0.4, n),
            "dfs_diagnosis": rng.lognormal(np.log(0.6), 0.4, n),
            "svc_baseline": rng.normal(88, 12, n),
            "fvc_diagnosis": rng.normal(90, 12, n),
            "csf_pnfh_baseline": pnfh,
            "pnfh_stratum": pd.cut(pnfh, [0, 750, 3700, np.inf], labels=["below_750", "low", "high"]).astype(str),
            "diagnostic_delay_months": rng.uniform(3, 15, n),
            "symptom_duration_months": rng.uniform(8, 24, n),
            "el_escorial": rng.choice(["possible", "probable", "definite"], size=n),
            "ftd": "no",
            "c9orf72": "negative",
            "time_origin_date": first_dose.fillna(enrolment),
            "os_time_days": os_time,
            "os_event": death <= censor,
            "composite_time_days": os_time,
            "composite_event": death <= censor,
            "first_dose_date": first_dose,
            "enrolment_date": enrolment,
            "year_of_birth": 2024 - rng.normal(60, 9, n).round(),
            "symptom_onset_date": first_dose - pd.to_timedelta((onset_months * 30.4375).round(), unit="D"),
            "riluzole_start_date": first_dose - pd.to_timedelta(rng.integers(30, 400, n), unit="D"),
            "onset_to_origin_months": onset_months,
            "pnfh_pre_dose": pnfh,
            "pnfh_pre_dose_assay": "ELISA (test)",
            "alsfrs_r_baseline": rng.integers(30, 46, n),
        }
    )
    visits = pd.DataFrame(
        [
            {
                "patient_id": pid,
                "assessment_date": dt.date(2025, 7, 1) + dt.timedelta(days=int(d)),
                "total": 40 - d / 30,
            }
            for pid in patients["patient_id"]
            for d in (0, 90, 180)
        ]
    )
    return patients, visits
