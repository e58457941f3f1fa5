"""geo-justice: the domain core (grid, friction, travel time, catchments, coverage, gaps). No web code."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geo-justice")
except PackageNotFoundError:  # run from a source tree that is not installed (PYTHONPATH)
    __version__ = "unknown (not installed)"
