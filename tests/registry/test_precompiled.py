"""Queries compiled once per process (registry.precompiled): subqueries, and whole queries run
per value. Each sends the same SQL and reads the same rows as the queryset it comes from; a
compiled subquery cannot be moved into another query."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import NotSupportedError, connection
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.test.utils import CaptureQueriesContext

from access_programme.models import Dispensing, Enrolment
from access_programme.selectors import patient_page
from access_programme.selectors.follow_up import with_follow_up
from access_programme.services import batch_recall
from registry import selectors as registry_selectors
from registry import services
from registry.models import ClinicalEvent, Patient, Role, SignatureMeaning
from registry.precompiled import (
    CompiledSubquery,
    compiled_per_value,
    compiled_updates_per_value,
    with_subqueries_compiled,
)
from tests.factories import PatientFactory, UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


def follow_up_patients():
    return with_follow_up(Patient.objects.select_related("site", "enrolment__route", "diagnosis"))


def test_every_subquery_of_the_follow_up_annotations_is_compiled():
    compiled = with_subqueries_compiled(follow_up_patients())

    sql = str(compiled.query)

    assert any(isinstance(expression, CompiledSubquery) for expression in compiled.query.annotations.values())
    assert sql == str(follow_up_patients().query)


@pytest.mark.parametrize(
    ("_case", "narrow"),
    [
        ("by ids", lambda patients: patients.filter(pk__in=[1, 2, 3])),
        ("by study id", lambda patients: patients.filter(study_id="GB-LON-00001")),
        ("by site and status", lambda patients: patients.filter(site__code="GB-LON", status="active")),
    ],
)
def test_a_compiled_queryset_sends_the_same_sql_and_parameters_when_filtered(_case, narrow):
    original = narrow(follow_up_patients()).query.sql_with_params()

    compiled = narrow(with_subqueries_compiled(follow_up_patients())).query.sql_with_params()

    assert compiled == original


def test_a_compiled_queryset_reads_the_same_rows_and_annotations():
    alive = treated_patient()
    dead = treated_patient()
    services.outcome_record(actor=None, patient=dead, event_type="death", event_date=days_ago(3))
    PatientFactory.create()

    def rows(patients):
        return [{k: v for k, v in p.__dict__.items() if k != "_state"} for p in patients.order_by("pk")]

    assert rows(with_subqueries_compiled(follow_up_patients())) == rows(follow_up_patients())
    by_pk = {p.pk: p for p in with_subqueries_compiled(follow_up_patients())}
    assert (by_pk[alive.pk].status, by_pk[dead.pk].status) == ("active", "deceased")
    assert by_pk[dead.pk].deceased_on == days_ago(3)


def test_a_condition_on_a_compiled_exists_is_the_exists_itself():
    died = Exists(ClinicalEvent.objects.filter(patient=OuterRef("pk"), event_type="death"))
    patients = Patient.objects.annotate(
        died=died, state=Case(When(Q(died=True), then=Value("dead")), default=Value("alive"))
    )

    assert str(with_subqueries_compiled(patients).query) == str(patients.query)


def test_a_compiled_queryset_refuses_to_be_used_inside_another_query():
    latest_event = ClinicalEvent.objects.filter(patient=OuterRef("pk")).order_by("-event_date").values("event_date")
    compiled = with_subqueries_compiled(Patient.objects.annotate(last_event=Subquery(latest_event[:1])))

    with pytest.raises(NotSupportedError):
        list(Patient.objects.filter(pk__in=compiled.values("pk")))


# --- whole queries compiled once, run per value (compiled_per_value) --------------------------

PAGE_READERS = [
    patient_page._consents,
    patient_page._withdrawals,
    patient_page._assessments,
    patient_page._biomarkers,
    patient_page._events,
    patient_page._adverse_events,
    patient_page._cycles,
    patient_page._dispensings,
    patient_page._unacknowledged_recalls,
    registry_selectors._signatures_of,
]


@pytest.fixture
def seeded_cohort() -> list[int]:
    """A synthetic cohort with every kind of record the patient page reads: the seed's, plus a
    withdrawal of consent corrected (the withdrawals select both records) and a recalled batch."""
    call_command("seed_demo", "--patients", "40", "--seed", "7", "--as-of", "2026-11-01", "--no-users", stdout=None)
    patient = Patient.objects.order_by("pk")[0]
    wrong = services.consent_withdraw(
        actor=None, patient=patient, level="treatment_only", effective_on=days_ago(9), reason="Told the nurse"
    )
    services.consent_withdraw(
        actor=None, patient=patient, level="", effective_on=None, reason="Entered in error", corrects=wrong
    )
    batch_recall(actor=None, batch=Dispensing.objects.order_by("pk")[0].batch, reason="Sterility failure")
    signer = UserFactory.create(username="ivan", role=Role.CLINICIAN, sites=[patient.site])
    signer.set_password("correct horse battery staple")
    signer.save()
    services.signature_sign(
        actor=signer, record=patient, meaning=SignatureMeaning.APPROVAL, password="correct horse battery staple"
    )
    return list(Patient.objects.order_by("pk").values_list("pk", flat=True))


def loaded(records) -> list[dict]:
    """Each record's fields and the fields of the related records selected with it."""

    def fields(record, depth: int = 0) -> dict:
        cached = record._state.fields_cache if depth < 3 else {}  # a correction and what it corrects point both ways
        related = {name: fields(other, depth + 1) for name, other in cached.items() if other is not None}
        return {**{k: v for k, v in record.__dict__.items() if k != "_state"}, "related": related}

    return [fields(record) for record in records]


@pytest.mark.parametrize("reader", PAGE_READERS, ids=lambda reader: reader.__name__)
def test_a_query_compiled_once_sends_the_sql_the_orm_compiles_for_each_patient(reader, seeded_cohort):
    for patient_id in seeded_cohort[:3]:
        with CaptureQueriesContext(connection) as compiled:
            reader(patient_id)
        with CaptureQueriesContext(connection) as orm:
            list(reader.build(patient_id))

        assert [q["sql"] for q in compiled.captured_queries] == [q["sql"] for q in orm.captured_queries]


@pytest.mark.parametrize("reader", PAGE_READERS, ids=lambda reader: reader.__name__)
def test_a_query_compiled_once_reads_each_patients_own_records_and_their_related_records(reader, seeded_cohort):
    read = {patient_id: loaded(reader(patient_id)) for patient_id in seeded_cohort}

    assert read == {patient_id: loaded(reader.build(patient_id)) for patient_id in seeded_cohort}
    assert all(row["patient_id"] == patient_id for patient_id, rows in read.items() for row in rows)


def test_the_seeded_cohort_gives_every_page_reader_records_to_compare(seeded_cohort):
    empty = [reader.__name__ for reader in PAGE_READERS if not any(reader(pk) for pk in seeded_cohort)]

    assert empty == []


def test_related_records_selected_with_a_compiled_query_need_no_further_query(seeded_cohort):
    patient_id = next(pk for pk in seeded_cohort if patient_page._dispensings(pk))
    dispensings = patient_page._dispensings(patient_id)

    with CaptureQueriesContext(connection) as queries:
        names = [(d.batch.product.name, d.cycle.cycle_number) for d in dispensings]

    assert names and queries.captured_queries == []


def test_a_queryset_that_prefetches_is_not_compiled_per_value():
    prefetching = compiled_per_value(lambda patient_id: Patient.objects.filter(pk=patient_id).prefetch_related("site"))

    with pytest.raises(NotSupportedError):
        prefetching(1)


def test_a_queryset_that_does_not_use_its_value_as_a_parameter_is_refused():
    unparameterised = compiled_per_value(lambda patient_id: Patient.objects.filter(sex="F"))

    with pytest.raises(NotSupportedError):
        unparameterised(1)


# --- UPDATEs compiled once, run per value (compiled_updates_per_value) -------------------------


def _site_of_patient_updates(patient_id):
    """A kept copy refreshed by correlated subquery, as access_programme.next_due writes them."""
    site = Subquery(Patient.objects.filter(pk=OuterRef("patient_id")).values("site_id")[:1])
    rows = Enrolment.objects.filter(patient_id=patient_id)
    return [(rows.filter(Exists(ClinicalEvent.objects.filter(patient=OuterRef("patient_id")))), {"site_id": site})]


def test_an_update_compiled_once_sends_the_sql_the_orm_compiles_for_each_patient(seeded_cohort):
    compiled = compiled_updates_per_value(_site_of_patient_updates)
    updated_in_all = 0
    for patient_id in seeded_cohort[:5]:
        with CaptureQueriesContext(connection) as orm:
            expected = sum(queryset.update(**values) for queryset, values in _site_of_patient_updates(patient_id))
        with CaptureQueriesContext(connection) as once:
            updated = compiled(patient_id)

        assert [q["sql"] for q in once.captured_queries] == [q["sql"] for q in orm.captured_queries]
        assert updated == expected
        updated_in_all += updated
    assert updated_in_all > 0  # the statements matched rows, not only compiled alike


def test_an_update_compiled_once_changes_only_its_patients_row(seeded_cohort):
    first, second = [pk for pk in seeded_cohort if ClinicalEvent.objects.filter(patient_id=pk).exists()][:2]
    Enrolment.objects.filter(patient_id__in=[first, second]).update(site=None)

    compiled_updates_per_value(_site_of_patient_updates)(first)

    sites = dict(Enrolment.objects.filter(patient_id__in=[first, second]).values_list("patient_id", "site_id"))
    assert sites == {first: Patient.objects.get(pk=first).site_id, second: None}


def test_an_update_that_does_not_use_its_value_as_a_parameter_is_refused():
    unparameterised = compiled_updates_per_value(lambda patient_id: [(Enrolment.objects.all(), {"site_id": None})])

    with pytest.raises(NotSupportedError):
        unparameterised(1)
