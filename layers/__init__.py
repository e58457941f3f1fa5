"""Read, validate and normalise each layer kind (DESIGN.md data contracts); the layer catalog."""
from .barriers import read_barriers, read_crossings
from .boundaries import read_boundaries
from .catalog import Dataset, embedded_data_dir, load_dataset
from .errors import LayerError, Problem
from .facilities import read_facilities
from .history import as_of, read_status_history
from .incidents import read_incidents
from .population import read_population
from .roads import DEFAULT_SPEEDS_KMH, read_roads
from .settlements import read_settlements

__all__ = [
    "Dataset", "LayerError", "Problem", "DEFAULT_SPEEDS_KMH", "as_of", "embedded_data_dir", "load_dataset",
    "read_barriers", "read_boundaries", "read_crossings", "read_facilities", "read_incidents", "read_population",
    "read_roads", "read_settlements", "read_status_history",
]
