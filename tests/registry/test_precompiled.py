"""Subqueries compiled once per process (registry.precompiled): the same SQL and the same rows
as the queryset they come from, and a compiled queryset cannot be moved into another query."""

from __future__ import annotations

import pytest
from django.db import NotSupportedError
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When

from access_programme.selectors.follow_up import with_follow_up
from registry import services
from registry.models import ClinicalEvent, Patient
from registry.precompiled import CompiledSubquery, with_subqueries_compiled
from tests.factories import PatientFactory, days_ago, treated_patient

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
