"""Exports: the same rows from the database through every channel, pseudonymised, safe and logged."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import dataset, exports, selectors
from analytics.models import ExportLog
from registry import safe_csv, services
from registry.models import AdverseEvent, Consent
from tests.conftest import login_with_second_factor
from tests.factories import days_ago, pnfh_recorded

pytestmark = [pytest.mark.requirement("EXP-01"), pytest.mark.django_db]


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_patient_table_reads_the_database_through_the_same_rules(world, full_patient):
    patient = full_patient(world.london)
    row = selectors.patient_dataset(None).set_index("patient_id").loc[patient.study_id]
    assert row["time_origin_date"] == days_ago(84)  # the factory's first dose
    assert row["csf_pnfh_baseline"] == 1800.0 and row["pnfh_stratum"] == "low"  # sampled 5 days before enrolment
    assert row["alsfrs_r_baseline"] is pd.NA or pd.isna(row["alsfrs_r_baseline"])  # only assessment is +64 days
    assert row["os_event"] == 0 and row["os_time_days"] == 74  # NIV started 10 days ago: last known alive
    assert row["cycles_received"] == 1


def test_a_clinician_exports_only_their_sites_patients(world, full_patient):
    full_patient(world.london)
    full_patient(world.sheffield)
    frame = selectors.patient_dataset(world.clinician_sheffield)
    assert set(frame["site_code"]) == {"GB-SHF"}


def test_a_patient_whose_latest_consent_refuses_sharing_is_left_out(world, full_patient):
    patient = full_patient(world.london)
    full_patient(world.sheffield)
    services.audited_save(
        Consent(patient=patient, form_version="v2", consent_date=days_ago(5), consents_to_data_sharing=False),
        actor=None,
    )
    assert patient.study_id not in set(selectors.patient_dataset(world.analyst)["patient_id"])
    rows = [row for chunk in selectors.long_table_chunks("alsfrs_r", world.analyst) for row in chunk]
    assert rows and not any(row[0] == patient.study_id for row in rows)


def test_every_long_table_has_its_dictionary_columns(world, full_patient, client_for):
    full_patient(world.london)
    client = client_for(world.analyst)
    for table in exports.TABLES:
        rows = _csv(client.get(f"/api/v1/datasets/{table}/csv/"))
        assert list(rows[0]) == [c.name for c in dataset.TABLES[table]], table


def test_csv_cells_that_look_like_formulas_are_neutralised(world, full_patient, client_for):
    patient = full_patient(world.london)
    for n, term in enumerate(['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]):
        services.adverse_event_record(
            actor=None, patient=patient, term=term, onset_date=days_ago(30 + n), ctcae_grade=1, relatedness="possible"
        )
    rows = _csv(client_for(world.analyst).get("/api/v1/datasets/adverse_events/csv/"))
    terms = {row["term"] for row in rows}
    assert {'\'=HYPERLINK("http://x")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd"} <= terms
    assert "Injection site reaction" in terms


def test_negative_numbers_are_not_quoted():
    chunks = exports.csv_chunks(["slope", "term"], [[(-0.52, "-bad")]], [1], [0])
    assert "".join(chunks) == "slope,term\r\n-0.52,'-bad\r\n"


def test_a_csv_export_through_the_api_is_logged(world, full_patient, client_for):
    full_patient(world.london)
    full_patient(world.sheffield)
    rows = _csv(client_for(world.analyst).get("/api/v1/datasets/patients/csv/"))
    log = ExportLog.objects.get()
    assert (log.user, log.table, log.file_format, log.channel) == (world.analyst, "patients", "csv", "api")
    assert log.row_count == len(rows) == 4  # the two personas' patients and two more
    assert log.completed and log.finished_at is not None


def test_a_parquet_export_has_the_dictionary_types_and_is_logged(world, full_patient, client_for):
    full_patient(world.london)
    response = client_for(world.analyst).get("/api/v1/datasets/patients/parquet/")
    table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
    assert table.column_names == list(dataset.PATIENT_COLUMN_NAMES)
    assert str(table.schema.field("os_time_days").type) == "int64"
    assert str(table.schema.field("time_origin_date").type) == "date32[day]"
    assert ExportLog.objects.get().row_count == 3  # the two personas' patients and one more


def test_the_web_page_lists_the_tables_and_downloads_are_logged(world, full_patient, client):
    full_patient(world.london)
    login_with_second_factor(client, world.analyst)
    page = client.get("/analytics/")
    assert page.status_code == 200 and b"alsfrs_r" in page.content
    response = client.get("/analytics/datasets/alsfrs_r.csv")
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("patient_id,assessment_date,q1_speech")
    assert ExportLog.objects.get().channel == "web"


def test_the_web_page_needs_a_signed_in_user(client):
    assert client.get("/analytics/datasets/patients.csv").status_code == 302


def test_the_export_command_writes_parquet_and_logs_it(world, full_patient, tmp_path):
    full_patient(world.london)
    path = tmp_path / "patients.parquet"
    call_command("export_dataset", str(path), "--format", "parquet")
    assert pq.read_table(path).num_rows == 3
    log = ExportLog.objects.get()
    assert (log.user, log.channel, log.destination, log.row_count) == (None, "command", str(path), 3)


def test_the_export_command_writes_a_long_table_as_csv(world, full_patient, tmp_path):
    full_patient(world.london)
    path = tmp_path / "visits.csv"
    call_command("export_dataset", str(path), "--format", "csv", "--table", "alsfrs_r")
    assert len(path.read_text().splitlines()) == 2  # header and the one assessment
    assert ExportLog.objects.get().table == "alsfrs_r"


@pytest.mark.parametrize("table", ["patients", "alsfrs_r"])
def test_the_export_query_count_does_not_grow_with_patients(world, full_patient, django_assert_num_queries, table):
    full_patient(world.london)
    with CaptureQueriesContext(connection) as captured:
        list(exports.CsvExport(table=table, user=world.analyst, channel="api"))
    for _ in range(3):
        full_patient(world.sheffield)
    with django_assert_num_queries(len(captured)):
        list(exports.CsvExport(table=table, user=world.analyst, channel="api"))


#: Free text a CSV writer must treat with care: every formula prefix, quotes before a formula,
#: cells to be quoted (comma, quote, CR, LF, CRLF), an empty cell and text that is none of these.
HOSTILE_TERMS = [
    *(f"{prefix}1+1" for prefix in safe_csv.FORMULA_PREFIXES),
    "'=already quoted",
    "''-twice",
    "O'Neil, rash",
    'a "quoted" term',
    "line\nfeed",
    "carriage\rreturn",
    '"=\r\n,"',
    "1-2",
    "Injection site reaction",
]


@pytest.fixture
def hostile_text(world, full_patient):
    """A patient per site, adverse events with hostile terms, one coded, the others not."""
    patient = full_patient(world.london)
    full_patient(world.sheffield)
    for n, term in enumerate(HOSTILE_TERMS):
        services.adverse_event_record(
            actor=None, patient=patient, term=term, onset_date=days_ago(30 + n), ctcae_grade=1, relatedness="possible"
        )
    AdverseEvent.objects.filter(term="1-2").update(meddra_llt_code="=1000000")


@pytest.mark.parametrize("table", [t for t in exports.TABLES if t != "patients"])
def test_the_csv_written_by_postgresql_copy_is_byte_for_byte_the_python_writers(world, hostile_text, table):
    header = [c.name for c in dataset.TABLES[table]]
    typed = exports.csv_chunks(
        header, [list(selectors.long_table_queryset(table, None))], exports._text_indexes(table), [0]
    )
    expected = "".join(typed).encode()
    assert expected.count(b"\r\n") > 2
    assert b"".join(exports.CsvExport(table=table, user=None, channel="api")) == expected
    assert ExportLog.objects.get().row_count == len(list(selectors.long_table_queryset(table, None)))


@pytest.mark.parametrize("table", [t for t in exports.TABLES if t != "patients"])
def test_csv_text_made_by_the_database_equals_python_formatting(world, hostile_text, table):
    header = [c.name for c in dataset.TABLES[table]]
    indexes = exports._text_indexes(table)
    fast = exports.csv_chunks(header, selectors.long_table_chunks(table, None, as_csv_text=True), indexes, [0])
    typed = exports.csv_chunks(header, [list(selectors.long_table_queryset(table, None))], indexes, [0])
    assert "".join(fast) == "".join(typed)


@pytest.mark.parametrize("rows_per_block", [1, 2, 10_000])
def test_the_copy_export_counts_rows_and_keeps_line_breaks_inside_cells(
    world, hostile_text, monkeypatch, rows_per_block
):
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", rows_per_block)
    body = b"".join(exports.CsvExport(table="adverse_events", user=world.analyst, channel="api")).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    terms = [row[1] for row in rows[1:]]
    assert {safe_csv.neutralise(term) for term in HOSTILE_TERMS} <= set(terms)
    assert ExportLog.objects.get().row_count == len(rows) - 1 == AdverseEvent.objects.count()


def test_an_interrupted_download_is_logged_incomplete_and_frees_the_connection(world, full_patient, monkeypatch):
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 1)
    for _ in range(3):
        full_patient(world.london)
    stream = iter(exports.CsvExport(table="alsfrs_r", user=world.analyst, channel="api"))
    next(stream)  # header
    next(stream)  # first row
    stream.close()  # the client went away
    log = ExportLog.objects.get()
    assert (log.completed, log.row_count) == (False, 1)
    assert ExportLog.objects.filter(completed=False).count() == 1  # the connection still answers


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_the_patient_table_is_the_same_in_chunks_of_one_as_in_one_chunk(
    world, full_patient, monkeypatch, tmp_path, file_format
):
    for site in (world.london, world.sheffield, world.london):
        full_patient(site)

    def export(chunk_rows: int) -> bytes:
        monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", chunk_rows)
        monkeypatch.setattr(exports, "PARQUET_ROW_GROUP", chunk_rows)
        if file_format == "csv":
            return b"".join(exports.CsvExport(table="patients", user=world.analyst, channel="api"))
        path = tmp_path / f"patients-{chunk_rows}.parquet"
        exports.write_table_parquet(table="patients", user=world.analyst, target=path, channel="api")
        return pq.read_table(path).to_pandas().to_csv().encode()

    one_chunk = export(10_000)
    assert one_chunk.count(b"\n") > 3
    assert export(1) == export(2) == one_chunk


@pytest.fixture
def edge_cohort(world, full_patient):
    """Patients in every shape the derivations treat apart, at two sites, interleaved in
    patient_id order with one whose latest consent refuses sharing (left out)."""

    from access_programme.models import Route
    from tests.api.personas import ITEMS
    from tests.factories import DiagnosisFactory, EnrolmentFactory, PatientFactory, treated_patient

    def visit(patient, days: int, walking: int) -> None:
        services.alsfrsr_record(
            actor=None, patient=patient, assessment_date=days_ago(days), **{**ITEMS, "q8_walking": walking}
        )

    def pnfh(patient, days: int, value: str) -> None:
        pnfh_recorded(patient, days, value, unit="pg/mL", assay="Ella")

    full_patient(world.london)  # censored alive, one cycle, pNFH in the window (low)
    refusing = full_patient(world.london)
    services.audited_save(
        Consent(patient=refusing, form_version="v2", consent_date=days_ago(5), consents_to_data_sharing=False),
        actor=None,
    )
    full_patient(world.sheffield)
    dead = treated_patient(site=world.london)  # died: OS event, composite event; baseline and slope
    for days, walking in ((86, 4), (60, 3), (30, 1)):
        visit(dead, days, walking)
    pnfh(dead, 89, "5200")  # high
    services.outcome_record(actor=None, patient=dead, event_type="death", event_date=days_ago(5))
    trach = treated_patient(site=world.sheffield)  # tracheostomy before the first dose: never at risk
    services.outcome_record(actor=None, patient=trach, event_type="tracheostomy", event_date=days_ago(87))
    pnfh(trach, 200, "2000")  # outside the window: missing
    pnfh(trach, 60, "600")  # 30 days after enrolment, inside: below_750
    none_route = Route.objects.get(code="none")
    untreated = PatientFactory(site=world.london)  # registry-only comparator: origin at enrolment
    DiagnosisFactory(patient=untreated)
    EnrolmentFactory(patient=untreated, route=none_route, first_dose_date=None)
    visit(untreated, 95, 3)  # 5 days before the origin: baseline, but ΔFS and slope from one visit
    never_dosed = PatientFactory(site=world.sheffield)  # treatment route, no first dose
    DiagnosisFactory(patient=never_dosed)
    EnrolmentFactory(patient=never_dosed, first_dose_date=None)
    services.outcome_record(actor=None, patient=never_dosed, event_type="lost_to_follow_up", event_date=days_ago(3))
    DiagnosisFactory(patient=PatientFactory(site=world.london))  # never enrolled: no origin
    PatientFactory(site=world.sheffield)  # no diagnosis, no enrolment
    return refusing


def _whole_cohort_csv(user) -> bytes:
    """The patient table as it was written before it was read in chunks of patients: derived
    from the whole cohort's frames at once."""
    header = [c.name for c in dataset.PATIENT_COLUMNS]
    rows = exports._frame_chunks(selectors.patient_dataset(user), exports.CSV_CHUNK_ROWS)
    return "".join(exports.csv_chunks(header, rows, exports._text_indexes("patients"), [0])).encode()


@pytest.mark.parametrize("persona", ["analyst", "clinician_london"])
def test_the_patient_table_read_in_chunks_of_patients_is_the_whole_cohorts_table(
    world, edge_cohort, monkeypatch, tmp_path, persona
):
    user = getattr(world, persona)
    expected = _whole_cohort_csv(user)
    parquet_files: dict[int, bytes] = {}
    for patients in (1, 2, 10_000):
        monkeypatch.setattr(selectors, "PATIENT_CHUNK_SIZE", patients)
        ExportLog.objects.all().delete()
        assert b"".join(exports.CsvExport(table="patients", user=user, channel="api")) == expected, patients
        path = tmp_path / f"patients-{patients}.parquet"
        rows = exports.write_table_parquet(table="patients", user=user, target=path, channel="api")
        parquet_files[patients] = path.read_bytes()
        logs = list(ExportLog.objects.order_by("pk").values_list("file_format", "row_count", "completed"))
        assert logs == [("csv", expected.count(b"\r\n") - 1, True), ("parquet", rows, True)]
    assert parquet_files[1] == parquet_files[2] == parquet_files[10_000]
    table = pq.read_table(io.BytesIO(parquet_files[1])).to_pandas()
    from_csv = pd.read_csv(io.BytesIO(expected), dtype=str, keep_default_na=False)
    assert list(table["patient_id"]) == list(from_csv["patient_id"]) == sorted(from_csv["patient_id"])

    frame = selectors.patient_dataset(user).set_index("patient_id")
    assert edge_cohort.study_id not in frame.index
    if persona == "analyst":  # the cohort holds the edge cases it is meant to
        assert len(frame) == 10
        assert set(frame["pnfh_stratum"]) == {"low", "high", "below_750", "missing"}
        assert set(frame["route"].dropna()) == {"nhs_specials", "none"} and frame["route"].isna().sum() == 2
        assert frame["os_event"].sum() == 1 and frame["composite_event"].isna().sum() == 3
        assert frame["alsfrs_r_slope_per_month"].notna().sum() == 1
    else:
        assert set(frame["site_code"]) == {"GB-LON"}
