"""Pharmacy pages for stock accountability: a batch's stock by site with transfers, destruction
and counts; patient returns; the reconciliation with its discrepancies (issue 16, item 2)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from access_programme import selectors
from access_programme import services as programme
from access_programme.models import (
    Batch,
    RecallNotice,
    ReconciliationExplanation,
    StockDiscrepancy,
    TemperatureExcursion,
)
from access_programme.stock import services as stock_services
from pharmacy.access import require_pharmacy
from pharmacy.stock_forms import (
    CountForm,
    DestroyForm,
    DispositionForm,
    ExcursionForm,
    ExplainForm,
    ExplainRowForm,
    ReturnForm,
    TransferForm,
)
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.selectors import sites_visible_to


def _run(form: forms.Form, action: str, request: AuthenticatedHttpRequest, batch: Batch) -> str | None:
    """Call the action's service with the form's data; the success message, or None if refused."""
    data = dict(form.cleaned_data)
    try:
        if action == "transfer":
            stock_services.stock_transfer(actor=request.user, batch=batch, from_site=data.pop("site"), **data)
            return f"{data['quantity']} transferred to {data['to_site'].code}."
        if action == "destroy":
            stock_services.stock_destroy(actor=request.user, batch=batch, **data)
            return f"{data['quantity']} destroyed, witnessed by {data['witness']}."
        found = stock_services.stock_count(actor=request.user, batch=batch, **data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    if found is None:
        return "Count recorded: it matches the stock."
    return f"Count recorded: {found.difference:+d} against the stock, listed as a discrepancy until explained."


FORMS = {"transfer": TransferForm, "destroy": DestroyForm, "count": CountForm}


@login_required
@require_http_methods(["GET", "POST"])
def batch_stock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_pharmacy(request.user)
    batch = get_object_or_404(Batch.objects.select_related("product"), pk=pk)
    sites = sites_visible_to(request.user).filter(active=True).order_by("code")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    bound = {
        name: form_class(request.POST if name == action else None, sites=sites, prefix=name)
        for name, form_class in FORMS.items()
    }
    status = 200
    if action in bound:
        form = bound[action]
        if form.is_valid():
            done = _run(form, action, request, batch)
            if done is not None:
                messages.success(request, done)
                return redirect("pharmacy:batch_stock", pk=pk)
        status = 400
    (reconciliation,) = selectors.reconcile([batch], list(sites))
    selectors.attach_explanations([row for row in reconciliation.sites if not row.balanced])
    return render(
        request,
        "pharmacy/batch_stock.html",
        {
            "batch": batch,
            "forms": bound,
            "reconciliation": reconciliation,
            "ledger": selectors.batch_ledger(batch),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispensing_return(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A patient's return of a supply: counted and held for destruction, never restocked."""
    require_pharmacy(request.user)
    dispensing = selectors.visible_dispensing(request.user, pk)
    if dispensing is None:
        raise Http404("No such supply at your sites.")
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stock_services.stock_return(actor=request.user, dispensing=dispensing, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Return recorded and held for destruction (never put back into stock).")
            return redirect("pharmacy:dispensing_detail", pk=pk)
    return render(
        request,
        "pharmacy/dispensing_return.html",
        {"d": dispensing, "form": form, "returned": stock_services.returned_quantity(dispensing)},
        status=400 if form.errors else 200,
    )


def _explain_row(request: AuthenticatedHttpRequest, form: ExplainRowForm) -> bool:
    """Explain an unbalanced row for the figures the person saw; False (with the form's errors)
    when refused."""
    data = form.cleaned_data
    batch = get_object_or_404(Batch, pk=data["batch"])
    site = get_object_or_404(sites_visible_to(request.user), pk=data["site"])
    try:
        stock_services.reconciliation_explain(
            actor=request.user,
            batch=batch,
            site=site,
            figures={name: data[name] for name in ReconciliationExplanation.FIGURES},
            explanation=data["explanation"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def reconciliation(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Per batch and per site: received + transferred in = in stock + dispensed + destroyed from
    stock + transferred out; unbalanced rows and count discrepancies listed until explained."""
    require_pharmacy(request.user)
    action = request.POST.get("action", "count") if request.method == "POST" else ""
    form = ExplainForm(request.POST if action == "count" else None)
    row_form = ExplainRowForm(request.POST if action == "row" else None)
    if action == "row" and row_form.is_valid() and _explain_row(request, row_form):
        messages.success(request, "Explanation recorded: the row stays explained while its figures stay the same.")
        return redirect("pharmacy:reconciliation")
    if action == "count" and form.is_valid():
        discrepancy = get_object_or_404(
            StockDiscrepancy.objects.filter(site__in=sites_visible_to(request.user)), pk=request.POST.get("pk")
        )
        try:
            stock_services.discrepancy_explain(
                actor=request.user, discrepancy=discrepancy, explanation=form.cleaned_data["explanation"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Discrepancy explained.")
            return redirect("pharmacy:reconciliation")
    return render(
        request,
        "pharmacy/reconciliation.html",
        {"report": selectors.reconciliation_report(request.user), "form": form, "row_form": row_form},
        status=400 if action else 200,
    )


@login_required
@require_POST
def recall_acknowledge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A clinician acknowledges a recall for their patient; the flag leaves the page and worklist."""
    notice = get_object_or_404(RecallNotice.objects.select_related("patient"), pk=pk)
    try:
        programme.recall_notice_acknowledge(actor=request.user, notice=notice, note=request.POST.get("note", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Recall acknowledged.")
    return redirect("clinic:patient_detail", study_id=notice.patient.study_id)


@login_required
@require_http_methods(["GET", "POST"])
def excursions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Cold-chain excursions: record one (its batches are quarantined), then decide it."""
    require_pharmacy(request.user)
    sites = sites_visible_to(request.user).filter(active=True).order_by("code")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = ExcursionForm(request.POST if action == "record" else None, sites=sites)
    decide = DispositionForm(request.POST if action == "decide" else None)
    try:
        if action == "record" and form.is_valid():
            stock_services.excursion_record(actor=request.user, **form.cleaned_data)
            messages.success(request, "Excursion recorded: the batches concerned are quarantined.")
            return redirect("pharmacy:excursions")
        if action == "decide" and decide.is_valid():
            excursion = get_object_or_404(
                TemperatureExcursion.objects.filter(site__in=sites), pk=request.POST.get("pk")
            )
            stock_services.excursion_decide(
                actor=request.user,
                excursion=excursion,
                disposition=decide.cleaned_data["disposition"],
                reason=decide.cleaned_data["disposition_reason"],
            )
            messages.success(request, "Disposition recorded.")
            return redirect("pharmacy:excursions")
    except ValidationError as error:
        add_service_errors(form if action == "record" else decide, error)
    return render(
        request,
        "pharmacy/excursions.html",
        {"form": form, "decide": decide, "excursions": selectors.excursions_visible_to(request.user)},
        status=400 if action else 200,
    )
