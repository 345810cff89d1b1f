"""A reconciliation row that does not balance is listed until someone explains it, and only for
the figures explained: when they change again the row is unexplained again (issue 16, item 2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from access_programme import selectors
from access_programme.models import ReconciliationExplanation, SiteStock
from access_programme.stock import services as stock
from registry.models import Role
from tests.access_programme.test_stock_accountability import goods_in
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def london():
    return SiteFactory.create(code="GB-LON")


@pytest.fixture
def pharmacist(london):
    return UserFactory.create(
        username="chloe", first_name="Chloe", last_name="Patel", role=Role.PHARMACIST, sites=[london]
    )


def shelf_holds(batch, site, quantity):
    """The shelf's figure moved outside the services (what a reconciliation exists to catch)."""
    SiteStock.objects.filter(batch=batch, site=site).update(quantity=quantity)


def row_of(user, batch):
    report = selectors.reconciliation_report(user)
    return report, next(r for whole in report.batches for r in whole.sites if r.batch.pk == batch.pk)


def explain(actor, row, text="Two syringes broken, destruction not recorded"):
    figures = {name: getattr(row, name) for name in ReconciliationExplanation.FIGURES}
    return stock.reconciliation_explain(actor=actor, batch=row.batch, site=row.site, figures=figures, explanation=text)


def test_an_unbalanced_row_is_listed_until_explained_then_shows_its_explanation(pharmacist, london):
    batch = goods_in(pharmacist, london)
    shelf_holds(batch, london, 18)
    report, row = row_of(pharmacist, batch)
    assert row.balance == 2 and report.unbalanced == [row] and report.explained == []

    explanation = explain(pharmacist, row)

    report, row = row_of(pharmacist, batch)
    assert report.unbalanced == [] and report.explained == [row]
    assert row.explanation == explanation
    assert (explanation.explained_by, explanation.in_stock, explanation.balance) == (pharmacist, 18, 2)


def test_a_row_whose_figures_change_after_its_explanation_is_unexplained_again(pharmacist, london):
    batch = goods_in(pharmacist, london)
    shelf_holds(batch, london, 18)
    explain(pharmacist, row_of(pharmacist, batch)[1])
    shelf_holds(batch, london, 17)
    report, row = row_of(pharmacist, batch)
    assert report.unbalanced == [row] and row.explanation is None
    assert row.last_explanation is not None and row.last_explanation.in_stock == 18


def test_explaining_figures_that_have_changed_since_they_were_read_is_refused(pharmacist, london):
    batch = goods_in(pharmacist, london)
    shelf_holds(batch, london, 18)
    seen = row_of(pharmacist, batch)[1]
    shelf_holds(batch, london, 17)
    with pytest.raises(ValidationError, match="have changed since"):
        explain(pharmacist, seen)
    assert not ReconciliationExplanation.objects.exists()


def test_a_balanced_row_or_an_empty_explanation_is_refused(pharmacist, london):
    batch = goods_in(pharmacist, london)
    balanced = row_of(pharmacist, batch)[1]
    with pytest.raises(ValidationError, match="nothing to explain"):
        explain(pharmacist, balanced)
    shelf_holds(batch, london, 18)
    with pytest.raises(ValidationError, match="Explain why"):
        explain(pharmacist, row_of(pharmacist, batch)[1], text="  ")


def test_only_a_pharmacy_user_of_the_site_may_explain(pharmacist, london):
    batch = goods_in(pharmacist, london)
    shelf_holds(batch, london, 18)
    row = row_of(pharmacist, batch)[1]
    elsewhere = UserFactory.create(username="sam", role=Role.PHARMACIST, sites=[SiteFactory.create(code="GB-SHF")])
    clinician = UserFactory.create(username="alice", role=Role.CLINICIAN, sites=[london])
    for outsider in (elsewhere, clinician):
        with pytest.raises(PermissionDenied):
            explain(outsider, row)


@pytest.mark.postgres
def test_an_explanation_is_append_only_for_the_app(pharmacist, london):
    batch = goods_in(pharmacist, london)
    shelf_holds(batch, london, 18)
    explain(pharmacist, row_of(pharmacist, batch)[1])
    with pytest.raises(DatabaseError), transaction.atomic():
        ReconciliationExplanation.objects.update(explanation="rewritten")
    assert ReconciliationExplanation.objects.get().explanation.startswith("Two syringes")
