"""One loader per RIF file, each in its own module, sharing the row-validation core (`core`).

`LOADERS` maps a file name to its loader. events.csv has two (deaths first, then the rest);
the importer runs them itself.
"""

from interchange import rif
from interchange.loaders.adverse_events import AdverseEventLoader
from interchange.loaders.alsfrs_r import AlsfrsrLoader
from interchange.loaders.biomarkers import BiomarkerLoader
from interchange.loaders.core import ImportContext, Loader, Row, RowRejected
from interchange.loaders.cycles import CycleLoader
from interchange.loaders.dispensing import DispensingLoader
from interchange.loaders.events import DeathLoader, EventLoader
from interchange.loaders.patients import CONSENT_FORM_VERSION, PatientLoader

__all__ = [
    "CONSENT_FORM_VERSION",
    "LOADERS",
    "AdverseEventLoader",
    "AlsfrsrLoader",
    "BiomarkerLoader",
    "CycleLoader",
    "DeathLoader",
    "DispensingLoader",
    "EventLoader",
    "ImportContext",
    "Loader",
    "PatientLoader",
    "Row",
    "RowRejected",
]

LOADERS: dict[str, type[Loader]] = {
    rif.PATIENTS.name: PatientLoader,
    rif.ALSFRS_R.name: AlsfrsrLoader,
    rif.BIOMARKERS.name: BiomarkerLoader,
    rif.ADVERSE_EVENTS.name: AdverseEventLoader,
    rif.CYCLES.name: CycleLoader,
    rif.DISPENSING.name: DispensingLoader,
}
