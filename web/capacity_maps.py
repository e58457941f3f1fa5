"""Maps of capacity-limited coverage (served catchments, courts by how full they are) and of the justice chain
(court to prison with room, prisons by occupancy), each with its legend, in French or English."""
from __future__ import annotations

import html

import folium
import pandas as pd

from geo_justice.access import AccessParams, Engine
from geo_justice.analysis import AnalysisResult
from geo_justice.tiles import TileStyle, attribution

from .i18n import check_lang, number
from .maps import TileUrl, _base_map, _finish, html_box, reference_sources, section

LABELS = {
    "fr": {"served": "Ressorts servis (dans la limite de la capacité)", "courts": "Tribunaux et leur capacité",
           "full": "tribunal saturé : des personnes à sa portée restent sans service", "room": "tribunal avec de la capacité restante",
           "title_capacity": "Personnes servies dans les {t:g} min, capacité des tribunaux comprise",
           "served_total": "servies", "over": "au-delà de la capacité",
           "left": "Restées sans service à sa portée", "out": "hors de portée",
           "capacity": "Capacité (personnes)", "basis": "Fondée sur", "source": "Source", "within": "À portée",
           "title_chain": "Chaîne pénale : du tribunal à la prison la plus proche ayant de la place",
           "links": "Tribunal → prison ayant de la place", "prisons": "Prisons (taux d'occupation)",
           "minutes": "{a:g} à {b:g} h", "beyond": "plus de {a:g} h", "occupancy": "Occupation",
           "occ_low": "moins de 80 %", "occ_high": "80 à 100 %", "occ_over": "surpeuplée (plus de 100 %)",
           "occ_unknown": "capacité ou détenus inconnus", "passed": "Prisons sans place écartées", "far": "Tribunaux à plus de {t:g} h",
           "detainees": "Détenus", "unknown": "inconnu"},
    "en": {"served": "Served catchments (within capacity)", "courts": "Courts and their capacity",
           "full": "court at capacity: people within its reach left unserved", "room": "court with capacity left",
           "title_capacity": "People served within {t:g} min, court capacity included",
           "served_total": "served", "over": "over capacity", "left": "Left unserved in its reach", "out": "out of reach",
           "capacity": "Capacity (persons)", "basis": "Based on", "source": "Source", "within": "Within reach",
           "title_chain": "Justice chain: from each court to the nearest prison with room",
           "links": "Court → prison with room", "prisons": "Prisons (occupancy)",
           "minutes": "{a:g} to {b:g} h", "beyond": "over {a:g} h", "occupancy": "Occupancy",
           "occ_low": "under 80%", "occ_high": "80 to 100%", "occ_over": "overcrowded (over 100%)",
           "occ_unknown": "capacity or detainees unknown", "passed": "Prisons without room passed over",
           "far": "Courts more than {t:g} h away", "detainees": "Detainees", "unknown": "unknown"},
}
FULL, ROOM = "#d73027", "#1a9850"
#: Hours from a court to its prison with room: class upper bounds and colours.
HOURS = ((4, "#1a9850"), (8, "#fdae61"), (None, "#d73027"))
OCCUPANCY = (("occ_low", "#1a9850"), ("occ_high", "#fdae61"), ("occ_over", "#d73027"), ("occ_unknown", "#878787"))


def text(lang: str, key: str, **values: object) -> str:
    return LABELS[check_lang(lang)][key].format(**values)


def _swatches(rows: list[tuple[str, str]]) -> list[list]:
    """Legend rows of (text, colour) pairs."""
    return [["swatch", colour, label] for label, colour in rows]


def _sources(engine: Engine, style: TileStyle) -> list[str]:
    return [*attribution(engine, style), *reference_sources(engine.dataset)]


def capacity_map(engine: Engine, params: AccessParams, result: AnalysisResult, *, lang: str = "fr",
                 tile_url: TileUrl | None = None) -> folium.Map:
    """The served catchments of `capacity_analysis.capacity` (red where the court is full), its courts with their
    capacity, and the totals served / over capacity / out of reach."""
    threshold = float(result.manifest["parameters"]["capacity"]["threshold"])
    fmap = _base_map(engine, params, lang, tile_url)
    served = result.layers["served_catchments"].copy()
    served["geometry"] = served.geometry.simplify(0.01)
    served["full"] = served["capacity_left"] < 0.5
    catchments = folium.GeoJson(served[["name", "served", "full", "geometry"]].to_json(), name=text(lang, "served"),
                   style_function=lambda f: {"color": FULL if f["properties"]["full"] else ROOM, "weight": 1,
                                             "fillColor": FULL if f["properties"]["full"] else ROOM, "fillOpacity": 0.35},
                   tooltip=folium.GeoJsonTooltip(["name"], labels=False))
    catchments.add_to(fmap)
    group = folium.FeatureGroup(name=text(lang, "courts"))
    courts = result.layers["facilities"].set_index("id")
    for court_id, court in courts.iterrows():
        popup = "<br>".join([
            f"<b>{html.escape(court['name'])}</b>",
            f"{text(lang, 'capacity')}: {number(lang, court['capacity_persons']) if pd.notna(court['capacity_persons']) else text(lang, 'unknown')}",
            f"{text(lang, 'basis')}: {html.escape(str(court['capacity_basis']))}",
            f"{text(lang, 'source')}: {html.escape(str(court['figures_source']))}",
            f"{text(lang, 'within')}: {number(lang, court['within_reach'])}",
            f"{text(lang, 'served_total')}: {number(lang, court['served'])}",
            f"{text(lang, 'left')}: {number(lang, court['left_in_reach'])}"])
        colour = FULL if court["capacity_left"] < 0.5 else ROOM
        folium.CircleMarker((court["lat"], court["lon"]), radius=6, color="#ffffff", weight=2, fill=True, fill_color=colour,
                            fill_opacity=0.95, tooltip=html.escape(court["name"]),
                            popup=folium.Popup(popup, max_width=320)).add_to(group)
    group.add_to(fmap)
    total = result.summary.set_index("region").loc["All"]
    title = (f"<b>{html.escape(text(lang, 'title_capacity', t=threshold))}</b><br>"
             f"{text(lang, 'served_total')}: {number(lang, total['served'])}<br>"
             f"{text(lang, 'over')}: {number(lang, total['over_capacity'])}<br>"
             f"{text(lang, 'out')}: {number(lang, total['out_of_reach'])}")
    html_box(fmap, title, "topright", "gj-title")
    swatches = _swatches([(text(lang, "full"), FULL), (text(lang, "room"), ROOM)])
    _finish(fmap, lang, [section(catchments, text(lang, "served"), swatches), section(group, text(lang, "courts"), swatches)],
            _sources(engine, TileStyle("traveltime", params, threshold)))
    return fmap


def _hours_colour(minutes: float) -> str:
    for upper, colour in HOURS:
        if upper is None or minutes <= upper * 60:
            return colour
    return HOURS[-1][1]


def _occupancy_colour(occupancy: float) -> str:
    if pd.isna(occupancy):
        return OCCUPANCY[3][1]
    return OCCUPANCY[0][1] if occupancy < 0.8 else OCCUPANCY[1][1] if occupancy <= 1 else OCCUPANCY[2][1]


def chain_map(engine: Engine, params: AccessParams, result: AnalysisResult, *, lang: str = "fr",
              tile_url: TileUrl | None = None) -> folium.Map:
    """The chain of `capacity_analysis.chain`: a line from each court to its nearest prison with room coloured by
    hours, prisons coloured by occupancy, courts beyond the threshold marked."""
    threshold = float(result.manifest["parameters"]["threshold"])
    fmap = _base_map(engine, params, lang, tile_url)
    links = folium.FeatureGroup(name=text(lang, "links"))
    far = folium.FeatureGroup(name=text(lang, "far", t=threshold / 60))
    for row in result.layers["chain"].itertuples():
        if row.geometry is None:
            continue
        hours = row.minutes_to_prison_with_room / 60
        tip = f"{row.name} → {row.nearest_prison_with_room}: {hours:.1f} h" + (
            f" ({text(lang, 'passed')}: {row.passed_over})" if row.passed_over else "")
        (court_lon, court_lat), prison = row.geometry.coords[0], row.geometry.coords[-1]
        folium.PolyLine([(court_lat, court_lon), (prison[1], prison[0])], color=_hours_colour(row.minutes_to_prison_with_room),
                        weight=3, opacity=0.8, tooltip=html.escape(tip)).add_to(links)
        if row.far:
            folium.CircleMarker((court_lat, court_lon), radius=7, color=HOURS[-1][1], weight=3, fill=False,
                                tooltip=html.escape(tip)).add_to(far)
    prisons = folium.FeatureGroup(name=text(lang, "prisons"))
    for row in result.layers["prisons"].itertuples():
        if not row.working:
            continue
        figures = (f"{text(lang, 'capacity')}: {number(lang, row.capacity) if pd.notna(row.capacity) else text(lang, 'unknown')}<br>"
                   f"{text(lang, 'detainees')}: {number(lang, row.detainees) if pd.notna(row.detainees) else text(lang, 'unknown')}<br>"
                   f"{text(lang, 'occupancy')}: {f'{row.occupancy:.0%}' if pd.notna(row.occupancy) else text(lang, 'unknown')}<br>"
                   f"{text(lang, 'source')}: {html.escape(str(row.figures_source))}")
        folium.CircleMarker((row.geometry.y, row.geometry.x), radius=8, color="#542788", weight=3,
                                    fill=True, fill_color=_occupancy_colour(row.occupancy), fill_opacity=0.95,
                                    tooltip=html.escape(row.name),
                                    popup=folium.Popup(f"<b>{html.escape(row.name)}</b><br>{figures}", max_width=320)).add_to(prisons)
    for layer in (links, far, prisons):
        layer.add_to(fmap)
    bounds = [0] + [upper for upper, _ in HOURS[:-1]]
    hour_rows = [(text(lang, "minutes", a=a, b=b), c) for a, (b, c) in zip(bounds, HOURS[:-1])]
    hour_rows.append((text(lang, "beyond", a=HOURS[-2][0]), HOURS[-1][1]))
    html_box(fmap, f"<b>{html.escape(text(lang, 'title_chain'))}</b>", "topright", "gj-title")
    sections = [section(links, text(lang, "links"), _swatches(hour_rows)),
                section(far, text(lang, "far", t=threshold / 60), _swatches([(text(lang, "far", t=threshold / 60), HOURS[-1][1])])),
                section(prisons, text(lang, "prisons"), _swatches([(text(lang, key), colour) for key, colour in OCCUPANCY]))]
    _finish(fmap, lang, sections, _sources(engine, TileStyle("traveltime", params)))
    return fmap
