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


@dataclass(frozen=True)
class LicenceFloors:
    """What anonymous callers may derive from rows whose licence forbids passing them on (dataset.json
    `layers.incidents.licence_floors`): surfaces and counts are built only from such rows moved to the centre
    of their `cell_deg` cell, in cells holding at least `min_incidents` of them in the window asked for, with a
    kernel of at least `bandwidth_km` and a window of at least `window_days`."""

    bandwidth_km: float = 25.0
    window_days: int = 90
    min_incidents: int = 5
    cell_deg: float = 0.5

    def __post_init__(self) -> None:
        for name in ("bandwidth_km", "window_days", "min_incidents", "cell_deg"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")):
                raise ValueError(f"licence_floors.{name} must be a positive number, not {value!r}")


def floors_from(spec: dict | None) -> LicenceFloors:
    """Defaults overridden by a dataset's `{"bandwidth_km": 25, "window_days": 90, ...}`."""
    unknown = sorted(set(spec or {}) - set(LicenceFloors.__dataclass_fields__))
    if unknown:
        raise ValueError(f"licence_floors: unknown field {unknown[0]!r}; fields: {', '.join(LicenceFloors.__dataclass_fields__)}")
    return LicenceFloors(**(spec or {}))
