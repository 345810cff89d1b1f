"""An import row and a form's record in the same situation get the same error.

The rules that read other rows (`registry.models.death_errors`,
`access_programme.models.cycle_errors`, `dispensing_errors`) exist once; the model's
`clean()` queries the facts they need, the importer gives them from what it loaded for the
chunk plus the rows it accepted before. Each test imports a row breaking one rule, then asks
the model itself (`full_clean()`, as a form does, against the database the import left) about
the same record: the same message means the importer gathered the same facts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from access_programme.models import Batch, Dispensing, TreatmentCycle
from access_programme.services import cycle_start
from registry.models import NON_FIELD, ClinicalEvent, DataQuery, Patient
from tests.interchange.conftest import CLEAN, run_import

pytestmark = [pytest.mark.requirement("DAT-02"), pytest.mark.django_db]


def model_says(obj: object, field: str) -> str:
    with pytest.raises(ValidationError) as error:
        obj.full_clean()  # type: ignore[attr-defined]
    return " ".join(error.value.message_dict[field])


def import_says(result, file: str, line: int, column: str | None) -> str:
    message = result.error_on(file, line)["message"]
    prefix = f"{column}: "
    return message[len(prefix) :] if column and message.startswith(prefix) else message


def cycle_row(
    patient_id: str,
    number: int,
    start: str,
    days: int = 5,
    total: str | None = None,
    interrupted: str = "no",
    reason: str = "",
) -> dict[str, str]:
    return {
        "patient_id": patient_id,
        "cycle_number": str(number),
        "start_date": start,
        "planned_dose_miu": "2",
        "days_administered": str(days),
        "total_dose_miu": total if total is not None else str(2 * days),
        "interrupted": interrupted,
        "interruption_reason": reason,
    }


def cycle(
    patient_id: str,
    number: int,
    start: dt.date,
    days: int = 5,
    total: Decimal | None = None,
    interrupted: bool = False,
    reason: str = "",
) -> TreatmentCycle:
    return TreatmentCycle(
        patient=Patient.objects.get(study_id=patient_id),
        cycle_number=number,
        start_date=start,
        planned_dose_miu=Decimal("2"),
        days_administered=days,
        total_dose_miu=Decimal(2 * days) if total is None else total,
        interrupted=interrupted,
        interruption_reason=reason,
    )


def import_cycles(import_files, clean_files, *rows: dict[str, str]):
    clean_files["cycles.csv"].extend(rows)
    return import_files(clean_files)


# --- deaths --------------------------------------------------------------------------------


def test_second_death_message_matches_the_model(clean_files, import_files):
    clean_files["events.csv"].append(
        {"patient_id": "GB-LON-0002", "event_date": "2025-06-29", "event_type": "death", "detail": ""}
    )
    result = import_files(clean_files)
    death = ClinicalEvent(
        patient=Patient.objects.get(study_id="GB-LON-0002"), event_type="death", event_date=dt.date(2025, 6, 29)
    )
    assert import_says(result, "events.csv", 7, "event_type") == model_says(death, "event_type")


def test_records_after_a_new_death_message_matches_the_model(clean_files, import_files):
    import_files({"patients.csv": clean_files["patients.csv"], "alsfrs_r.csv": clean_files["alsfrs_r.csv"]})
    clean_files["events.csv"][3]["event_date"] = "2025-04-20"
    second = {"patients.csv": clean_files["patients.csv"], "events.csv": clean_files["events.csv"]}
    result = import_files(second, name="second")
    death = ClinicalEvent(
        patient=Patient.objects.get(study_id="GB-LON-0002"), event_type="death", event_date=dt.date(2025, 4, 20)
    )
    assert import_says(result, "events.csv", 5, "event_date") == model_says(death, "event_date")


def test_future_death_message_matches_the_model(clean_files, import_files):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    clean_files["events.csv"].append(
        {"patient_id": "GB-SHF-0001", "event_date": tomorrow.isoformat(), "event_type": "death", "detail": ""}
    )
    result = import_files(clean_files)
    death = ClinicalEvent(patient=Patient.objects.get(study_id="GB-SHF-0001"), event_type="death", event_date=tomorrow)
    assert import_says(result, "events.csv", 7, "event_date") == model_says(death, "event_date")
    assert model_says(death, "event_date") == "This date is in the future."


# --- cycles ---------------------------------------------------------------------------------


def test_28_day_message_matches_the_model(clean_files, import_files):
    result = import_cycles(import_files, clean_files, cycle_row("GB-LON-0002", 3, "2025-04-07"))
    model = model_says(cycle("GB-LON-0002", 3, dt.date(2025, 4, 7)), "start_date")
    assert import_says(result, "cycles.csv", 7, "start_date") == model


def test_following_cycle_message_matches_the_model(clean_files, import_files):
    clean_files["cycles.csv"] = [
        r for r in clean_files["cycles.csv"] if not (r["patient_id"] == "GB-LON-0002" and r["cycle_number"] == "2")
    ]
    clean_files["dispensing.csv"] = [r for r in clean_files["dispensing.csv"] if r["patient_id"] != "GB-LON-0002"]
    result = import_cycles(
        import_files, clean_files, cycle_row("GB-LON-0002", 3, "2025-04-10"), cycle_row("GB-LON-0002", 2, "2025-03-17")
    )
    model = model_says(cycle("GB-LON-0002", 2, dt.date(2025, 3, 17)), "start_date")
    assert import_says(result, "cycles.csv", 7, "start_date") == model


def test_first_cycle_on_first_dose_message_matches_the_model(clean_files, import_files):
    clean_files["cycles.csv"][3]["start_date"] = "2025-02-18"
    result = import_files(clean_files)
    model = model_says(cycle("GB-LON-0002", 1, dt.date(2025, 2, 18)), "start_date")
    assert import_says(result, "cycles.csv", 5, "start_date") == model


def test_cycle_before_enrolment_message_matches_the_model(clean_files, import_files):
    result = import_cycles(import_files, clean_files, cycle_row("GB-LON-0002", 5, "2025-01-01"))
    model = model_says(cycle("GB-LON-0002", 5, dt.date(2025, 1, 1)), "start_date")
    assert import_says(result, "cycles.csv", 7, "start_date") == model


def test_untreated_route_message_matches_the_model(clean_files, import_files):
    result = import_cycles(import_files, clean_files, cycle_row("GB-SHF-0001", 1, "2025-03-10"))
    model = model_says(cycle("GB-SHF-0001", 1, dt.date(2025, 3, 10)), NON_FIELD)
    assert import_says(result, "cycles.csv", 7, None) == model


def test_total_dose_message_matches_the_model(clean_files, import_files):
    result = import_cycles(import_files, clean_files, cycle_row("GB-LON-0002", 3, "2025-04-14", total="12"))
    model = model_says(cycle("GB-LON-0002", 3, dt.date(2025, 4, 14), total=Decimal(12)), "total_dose_miu")
    assert import_says(result, "cycles.csv", 7, "total_dose_miu") == model


def test_interruption_reason_message_matches_the_model(clean_files, import_files):
    result = import_cycles(
        import_files, clean_files, cycle_row("GB-LON-0002", 3, "2025-04-14", days=3, interrupted="yes")
    )
    model = model_says(cycle("GB-LON-0002", 3, dt.date(2025, 4, 14), days=3, interrupted=True), "interruption_reason")
    assert import_says(result, "cycles.csv", 7, "interruption_reason") == model


def test_missed_doses_raise_the_same_query_from_an_import_as_from_the_service(clean_files, import_files):
    import_cycles(import_files, clean_files, cycle_row("GB-LON-0002", 3, "2025-04-14", days=4))
    imported = DataQuery.objects.get(rule="cycle_missed_doses")
    assert (imported.record.cycle_number, imported.field_name) == (3, "interrupted")
    entered = cycle_start(
        actor=None,
        patient=Patient.objects.get(study_id="GB-LON-0002"),
        cycle_number=4,
        start_date=dt.date(2025, 5, 12),
        days_administered=4,
    )
    from_service = DataQuery.objects.get(record_id=entered.pk, rule="cycle_missed_doses")
    assert (from_service.field_name, from_service.message) == (imported.field_name, imported.message)


# --- dispensing -------------------------------------------------------------------------------


def dispensing_like(file_row: dict[str, str]) -> Dispensing:
    patient = Patient.objects.get(study_id=file_row["patient_id"])
    return Dispensing(
        patient=patient,
        cycle=TreatmentCycle.objects.get(patient=patient, cycle_number=int(file_row["cycle_number"])),
        batch=Batch.objects.get(batch_number=file_row["batch_number"]),
        dispensed_on=dt.date.fromisoformat(file_row["dispensed_on"]),
        quantity=int(file_row["quantity"]),
        quantity_unit=file_row["quantity_unit"],
        dose_miu_per_unit=Decimal(file_row["dose_miu_per_unit"]),
        prescriber=file_row["prescriber"],
        dispensed_by=file_row["dispensed_by"],
        cold_chain_confirmed=True,
    )


def test_expired_batch_message_matches_the_model(clean_files, import_files):
    for row in clean_files["dispensing.csv"][:3]:
        row["batch_expiry"] = "2025-03-01"
    result = import_files(clean_files)
    model = model_says(dispensing_like(clean_files["dispensing.csv"][2]), "batch")
    assert import_says(result, "dispensing.csv", 4, "batch_number") == model


def test_stock_message_matches_the_model(clean_files, import_files):
    from tests.factories import BatchFactory

    BatchFactory(
        batch_number="SPX-T-001",
        expiry_date=dt.date(2025, 7, 31),
        received_on=dt.date(2025, 1, 2),
        quantity_received=12,
        quantity_remaining=12,
    )
    result = import_files(clean_files)
    model = model_says(dispensing_like(clean_files["dispensing.csv"][2]), "batch")
    assert import_says(result, "dispensing.csv", 4, "batch_number") == model


def test_route_message_matches_the_model(clean_files, import_files):
    run_import(CLEAN)
    row = dict(clean_files["dispensing.csv"][1])
    row.update(
        dispensed_on="2025-02-18",
        product="ilt_101",
        batch_number="ILT-T-001",
        batch_expiry="2026-01-31",
        supplier="ILTOO Pharma",
    )
    result = import_files({"patients.csv": clean_files["patients.csv"], "dispensing.csv": [row]}, name="route")
    assert import_says(result, "dispensing.csv", 2, "batch_number") == model_says(dispensing_like(row), "batch")


def test_quantity_unit_message_matches_the_model(clean_files, import_files):
    run_import(CLEAN)
    row = dict(clean_files["dispensing.csv"][1])
    row.update(dispensed_on="2025-02-18", quantity_unit="vial")
    result = import_files({"patients.csv": clean_files["patients.csv"], "dispensing.csv": [row]}, name="unit")
    model = model_says(dispensing_like(row), "quantity_unit")
    assert import_says(result, "dispensing.csv", 2, "quantity_unit") == model
