"""Map labels and legends in French (default: Mali's working language) and English."""
from __future__ import annotations

LANGS = ("fr", "en")
LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Accès à la justice : temps de trajet jusqu'au tribunal en fonction le plus proche",
        "traveltime": "Temps de trajet (minutes)", "coverage": "À moins de {t:g} min", "risk": "Insécurité (incidents pondérés / 1 000 km²)",
        "basemap": "Fond de carte (densité de population modélisée)",
        "courts": "Tribunaux (statut au {date})", "relocated": "Tribunaux délocalisés : siège → lieu où ils siègent",
        "prisons": "Prisons", "incidents": "Incidents ({start} au {end})", "incidents_aggregated": "Incidents agrégés par cellule de 0,5° (licence)",
        "catchments": "Ressorts d'accès (tribunal le plus proche)", "gaps": "Zones sans accès (au-delà de {t:g} min)",
        "operational": "en fonction", "partial": "partiellement en fonction", "closed": "fermé", "unknown": "inconnu",
        "unreachable": "inaccessible", "within": "à moins de {t:g} min", "beyond": "au-delà de {t:g} min",
        "status": "Statut", "source": "Source", "as_of": "au", "tier": "Niveau", "sitting": "Siège actuel",
        "capacity": "Capacité", "detainees": "Détenus", "population": "Population",
        "events": "incidents", "fatalities": "morts", "mode_actual": "tribunaux en fonction, là où ils siègent",
        "mode_nominal": "tous les tribunaux, à leur siège", "legend": "Légende",
        "court_status": "Statut des tribunaux",
        "gained": "Gagnent l'accès à moins de {t:g} min", "lost": "Perdent l'accès à moins de {t:g} min",
        "scenario_courts": "Tribunaux du scénario", "before": "Avant", "after": "Après", "change": "Variation",
        "added": "ajouté (hypothèse)", "mobile": "audience foraine ({n:g} sessions par an)",
        "baseline_traveltime": "Temps de trajet actuel (minutes)",
    },
    "en": {
        "title": "Access to justice: travel time to the nearest working court",
        "traveltime": "Travel time (minutes)", "coverage": "Within {t:g} min", "risk": "Insecurity (weighted incidents / 1,000 km²)",
        "basemap": "Basemap (modelled population density)",
        "courts": "Courts (status on {date})", "relocated": "Relocated courts: seat → sitting place",
        "prisons": "Prisons", "incidents": "Incidents ({start} to {end})", "incidents_aggregated": "Incidents aggregated per 0.5° cell (licence)",
        "catchments": "Catchments (nearest court)", "gaps": "Access gaps (beyond {t:g} min)",
        "operational": "operational", "partial": "partially operational", "closed": "closed", "unknown": "unknown",
        "unreachable": "unreachable", "within": "within {t:g} min", "beyond": "beyond {t:g} min",
        "status": "Status", "source": "Source", "as_of": "as of", "tier": "Tier", "sitting": "Sitting place",
        "capacity": "Capacity", "detainees": "Detainees", "population": "Population",
        "events": "incidents", "fatalities": "fatalities", "mode_actual": "working courts at their sitting place",
        "mode_nominal": "every court at its seat", "legend": "Legend",
        "court_status": "Court status",
        "gained": "Gain access within {t:g} min", "lost": "Lose access within {t:g} min",
        "scenario_courts": "Courts in the scenario", "before": "Before", "after": "After", "change": "Change",
        "added": "added (hypothetical)", "mobile": "mobile hearing ({n:g} sessions a year)",
        "baseline_traveltime": "Travel time today (minutes)",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def label(lang: str, key: str, **values: object) -> str:
    """The label `key` in `lang`, formatted with `values`."""
    return LABELS[check_lang(lang)][key].format(**values)


def number(lang: str, value: float) -> str:
    """A whole number with the language's thousands separator (narrow no-break space in French)."""
    text = f"{value:,.0f}"
    return text.replace(",", "\u202f") if lang == "fr" else text
