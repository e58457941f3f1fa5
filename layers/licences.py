"""Incident sources carry licences: some may be passed on raw, others (ACLED) only as aggregates."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    """What a source's terms allow: serving its raw rows to anyone, and the attribution every product needs."""

    redistribute_raw: bool
    attribution: str


#: Defaults per `source_dataset`; a dataset.json may override them (layers.incidents.licences).
DEFAULT_LICENCES: dict[str, Licence] = {
    "acled": Licence(False, "Armed Conflict Location & Event Data (ACLED), acleddata.com; aggregated as its terms require"),
    "ucdp": Licence(True, "UCDP Georeferenced Event Dataset (GED), Uppsala Conflict Data Program, CC BY 4.0"),
    "synthetic": Licence(True, "Synthetic demo incidents (geo-justice data/make_incidents.py), not real events"),
    "custom": Licence(False, "Incidents supplied by the operator; raw rows withheld unless the dataset allows them"),
}


def licences_from(spec: dict | None) -> dict[str, Licence]:
    """Defaults overridden by a dataset's `{"acled": {"redistribute_raw": false, "attribution": "..."}}`."""
    out = dict(DEFAULT_LICENCES)
    for source, terms in (spec or {}).items():
        out[source] = Licence(bool(terms["redistribute_raw"]), str(terms["attribution"]))
    return out
