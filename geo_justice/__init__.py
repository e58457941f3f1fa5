"""geo-justice: the domain core (grid, friction, travel time, catchments, coverage, gaps). No web code."""

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here): no importlib.metadata at start-up
