"""geo-justice: the domain core (grid, friction, travel time, catchments, coverage, gaps). No web code."""
from importlib.metadata import version

__version__ = version("geo-justice")
