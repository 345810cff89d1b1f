"""Reads behind the web pages that join registry and programme data: the clinicians' patient
list and patient page, the pharmacists' worklist, the batch register.

Every read starts from `registry.selectors.patients_visible_to` / `records_visible_to`, the one
visibility rule. Follow-up state (last ALSFRS-R, last cycle, open serious AE, status) is
computed in the database, and a patient's records are fetched one query per kind, so the cost
of a page does not grow with the number of patients or records (tests pin the exact query
counts). Lists are read in two steps: the ids of one page are found with set-based conditions,
counted and cut in SQL; only then are the follow-up annotations computed for those ids.
"""

from access_programme.selectors.batches import (
    RECIPIENTS_CSV_HEADER,
    RECIPIENTS_PAGE_SIZE,
    BatchRecipients,
    batch_recipients,
    batch_recipients_rows,
    batch_register,
)
from access_programme.selectors.follow_up import (
    ALSFRSR_DUE_SOON_DAYS,
    SORTS,
    DueFilter,
    FollowUp,
    PatientStatus,
    alsfrsr_due_by,
    follow_up,
    has_enrolment,
    in_follow_up,
    latest,
    open_sae,
    status_is,
    treated,
    with_follow_up,
)
from access_programme.selectors.patient_list import (
    PAGE_SIZE,
    PatientListPage,
    annotated_in_order,
    patient_list,
    patient_list_page,
    routes,
)
from access_programme.selectors.patient_page import (
    TIMELINE_KINDS,
    PatientOverview,
    TimelineEntry,
    patient_overview,
    patient_page_queryset,
    timeline_filtered,
)
from access_programme.selectors.stock import (
    Reconciliation,
    ReconciliationReport,
    batch_ledger,
    batch_recipient_adverse_events,
    excursions_visible_to,
    open_recall_patient_ids,
    reconcile,
    reconciliation_report,
    tracked_batches,
)
from access_programme.selectors.supply import (
    Label,
    cycle_prescription,
    dispensing_label,
    part_supplied_cycle,
    visible_dispensing,
)
from access_programme.selectors.worklist import (
    WORKLIST_HORIZON_DAYS,
    WORKLIST_PAGE_SIZE,
    WorklistPage,
    WorklistRow,
    dispensable_batches,
    dispensing_target,
    dispensing_worklist,
    recent_dispensings,
    usable_batches,
)

__all__ = [
    "ALSFRSR_DUE_SOON_DAYS",
    "PAGE_SIZE",
    "RECIPIENTS_CSV_HEADER",
    "RECIPIENTS_PAGE_SIZE",
    "SORTS",
    "TIMELINE_KINDS",
    "WORKLIST_HORIZON_DAYS",
    "WORKLIST_PAGE_SIZE",
    "BatchRecipients",
    "DueFilter",
    "FollowUp",
    "Label",
    "PatientListPage",
    "PatientOverview",
    "PatientStatus",
    "Reconciliation",
    "ReconciliationReport",
    "TimelineEntry",
    "WorklistPage",
    "WorklistRow",
    "alsfrsr_due_by",
    "annotated_in_order",
    "batch_ledger",
    "batch_recipient_adverse_events",
    "batch_recipients",
    "batch_recipients_rows",
    "batch_register",
    "cycle_prescription",
    "dispensable_batches",
    "dispensing_label",
    "dispensing_target",
    "dispensing_worklist",
    "excursions_visible_to",
    "follow_up",
    "has_enrolment",
    "in_follow_up",
    "latest",
    "open_recall_patient_ids",
    "open_sae",
    "part_supplied_cycle",
    "patient_list",
    "patient_list_page",
    "patient_overview",
    "patient_page_queryset",
    "recent_dispensings",
    "reconcile",
    "reconciliation_report",
    "routes",
    "status_is",
    "timeline_filtered",
    "tracked_batches",
    "treated",
    "usable_batches",
    "visible_dispensing",
    "with_follow_up",
]
