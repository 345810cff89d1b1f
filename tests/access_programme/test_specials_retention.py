"""A specials record is kept at least 5 years (Human Medicines Regulations 2012, reg. 170):
refused at the model and, on PostgreSQL, by a trigger for the app role (issue 16, item 5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from access_programme.models import Dispensing
from tests.factories import BatchFactory, days_ago, supplied, treated_patient

pytestmark = pytest.mark.django_db


def special_supply(on: dt.date) -> Dispensing:
    return supplied(treated_patient(), BatchFactory.create(), on=on)


def test_a_specials_record_younger_than_5_years_cannot_be_deleted():
    supply = special_supply(days_ago(84))
    with pytest.raises(ValidationError, match="5 years"):
        supply.delete()
    assert Dispensing.objects.filter(pk=supply.pk).exists()


@pytest.mark.postgres
def test_the_database_refuses_the_app_role_a_delete_that_bypasses_the_model():
    supply = special_supply(days_ago(84))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
    with pytest.raises(DatabaseError, match="5 years"), transaction.atomic():
        Dispensing.objects.filter(pk=supply.pk).delete()
    assert Dispensing.objects.filter(pk=supply.pk).exists() and role != "postgres"


@pytest.mark.postgres
def test_a_specials_record_older_than_5_years_may_be_deleted():
    supply = special_supply(days_ago(6 * 366))
    Dispensing.objects.filter(pk=supply.pk).delete()
    assert not Dispensing.objects.filter(pk=supply.pk).exists()
