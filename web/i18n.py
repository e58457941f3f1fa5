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
        "sources": "Sources", "sources_title": "Sources (ce qui est modélisé ou synthétique est indiqué)",
        "data_short": "Données : geo-justice, geoBoundaries, Natural Earth", "here": "{n} établissements ici",
        "facilities": "Établissements", "court": "Tribunal", "prison": "Prison", "incident": "Incident",
        "incident_cell": "Incidents d'une cellule (plus foncé : plus nombreux)", "cluster": "Groupe d'incidents (nombre)",
        "relocated_line": "Du siège au lieu où le tribunal siège", "catchment_line": "Limite de ressort",
        "gap_area": "Zone sans accès", "many": "Plusieurs établissements au même endroit (nombre)",
        "embed_title": "{what} : {where}, au {date}", "country_default": "zone d'étude",
        "gained_area": "Zone qui gagne l'accès", "lost_area": "Zone qui perd l'accès",
        "route_title": "Audiences foraines : tournée", "team": "Équipe {n}", "depot": "Départ",
        "day": "jour {n}", "days": "jours", "hours": "heures de route", "km": "km", "dropped": "Non planifiés",
        "hearings": "Audiences", "priority": "Priorité", "summary": "Résumé", "stop": "Étape",
        "leg": "{a} → {b} : {h} h, {km} km",
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
        "sources": "Sources", "sources_title": "Sources (modelled and synthetic layers say so)",
        "data_short": "Data: geo-justice, geoBoundaries, Natural Earth", "here": "{n} facilities here",
        "facilities": "Facilities", "court": "Court", "prison": "Prison", "incident": "Incident",
        "incident_cell": "Incidents in a cell (darker: more)", "cluster": "Group of incidents (count)",
        "relocated_line": "From seat to where the court sits", "catchment_line": "Catchment boundary",
        "gap_area": "Area without access", "many": "Several facilities in one place (count)",
        "embed_title": "{what}: {where}, as of {date}", "country_default": "study area",
        "gained_area": "Area gaining access", "lost_area": "Area losing access",
        "route_title": "Mobile hearings: route", "team": "Team {n}", "depot": "Depot",
        "day": "day {n}", "days": "days", "hours": "hours driving", "km": "km", "dropped": "Not planned",
        "hearings": "Hearings", "priority": "Priority", "summary": "Summary", "stop": "Stop",
        "leg": "{a} → {b}: {h} h, {km} km",
    },
}


#: Court tiers (the data's codes) in each language; a dataset may declare its own names (dataset.json `tiers`).
TIERS: dict[str, dict[str, str]] = {
    "fr": {"appeal": "Cour d'appel", "tgi": "Tribunal de grande instance", "ti": "Tribunal d'instance",
           "jpce": "Justice de paix à compétence étendue", "specialized": "Tribunal spécialisé",
           "military": "Tribunal militaire", "other": "Autre juridiction", "mobile": "Audience foraine"},
    "en": {"appeal": "Court of appeal", "tgi": "High court (tribunal de grande instance)",
           "ti": "District court (tribunal d'instance)", "jpce": "Justice of the peace with extended jurisdiction",
           "specialized": "Specialised court", "military": "Military court", "other": "Other court",
           "mobile": "Mobile hearing"},
}
MONTHS = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                 "novembre", "décembre"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                 "November", "December")}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def label(lang: str, key: str, **values: object) -> str:
    """The label `key` in `lang`, formatted with `values`."""
    return LABELS[check_lang(lang)][key].format(**values)


def number(lang: str, value: float, decimals: int = 0) -> str:
    """A number with the language's separators: "1\u202f588\u202f052" and "2,5" in French, "1,588,052" and "2.5" in English."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def date_text(lang: str, value: object) -> str:
    """A day written out: "17 novembre 2023" / "17 November 2023" (anything pandas reads as a date)."""
    import pandas as pd
    day = pd.Timestamp(value)
    first = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{first} {MONTHS[check_lang(lang)][day.month - 1]} {day.year}"


def tier_name(lang: str, code: str, declared: dict | None = None) -> str:
    """A court tier's name in `lang`: the dataset's own name when it declares one, else the vocabulary, else the code.

    `declared` is dataset.json's `tiers`: {code: {"fr": ..., "en": ...}} (or {code: name} in every language).
    """
    own = (declared or {}).get(code)
    if isinstance(own, dict) and own.get(lang):
        return str(own[lang])
    if isinstance(own, str) and own:
        return own
    return TIERS[check_lang(lang)].get(code, code)
