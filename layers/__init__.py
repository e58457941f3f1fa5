"""Read, validate and normalise each layer kind (DESIGN.md data contracts); the layer catalog.

The names below load their module on first use (PEP 562), so importing `layers` (or `layers.errors`)
does not import geopandas.
"""
from importlib import import_module

_HOME = {
    "read_barriers": "barriers", "read_crossings": "barriers", "read_boundaries": "boundaries",
    "Dataset": "catalog", "embedded_data_dir": "catalog", "load_dataset": "catalog", "LayerError": "errors",
    "Problem": "errors", "read_facilities": "facilities", "as_of": "history", "read_status_history": "history",
    "read_incidents": "incidents", "read_population": "population", "DEFAULT_SPEEDS_KMH": "roads",
    "read_roads": "roads", "read_settlements": "settlements",
}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'layers' has no attribute {name!r}")
    return getattr(import_module(f".{_HOME[name]}", __name__), name)
