"""geo-justice: the domain core (grid, friction, travel time, catchments, coverage, gaps). No web code."""

__version__ = "0.1.0"
