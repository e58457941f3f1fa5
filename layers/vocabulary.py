"""The controlled vocabularies of the data contracts (DESIGN.md, glossary)."""

KINDS = ("court", "prison")
TIERS = ("appeal", "tgi", "ti", "jpce", "specialized", "military", "other")
STATUSES = ("operational", "partial", "closed", "unknown")
#: Statuses under which a facility counts in "actual" mode.
WORKING = ("operational", "partial")
INCIDENT_SOURCES = ("acled", "ucdp", "custom", "synthetic")
