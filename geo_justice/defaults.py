"""The parameters' defaults, in a module that imports nothing: the command line shows them without
loading the engine (so `geo-justice --help` is instant). The parameter classes take their defaults from here."""

DEFAULT_THRESHOLDS = (30, 60, 120, 240)
OFFROAD_KMH = 5.0
CONFLICT_MODE = "penalty"
CONFLICT_WINDOW_DAYS = 365
HALF_LIFE_DAYS = 180.0
BANDWIDTH_KM = 25.0
PENALTY = 1.0
AVOID_RISK = 20.0
RASTER_LAYERS = ("traveltime", "coverage", "risk", "basemap")
POINT_LAYERS = ("courts", "prisons", "incidents")
