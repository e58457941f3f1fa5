"""Folium pages: the coverage map and the embeddable one-layer map, in French or English, with no CDN.

Raster layers come either from the service's tiles (`tile_url` given: a served page) or, for a
self-contained file, as one Mercator image each, embedded in the page.
"""
from __future__ import annotations

import base64
import html
import json
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from geo_justice import analysis, country
from geo_justice.access import AccessParams, Engine
from geo_justice.collections import Interval, incidents_view
from geo_justice.colours import INCIDENT_COLOUR, PRISON_COLOUR, STATUS_COLOURS
from geo_justice.scenarios import MOBILE_TIER, Scenario, scenario_facilities
from geo_justice.tiles import RASTER_LAYERS, TileStyle, attribution, bounds, overlay_png, ramp_of

from .assets import asset_path, inline, localise
from .i18n import check_lang, date_text, label, number, tier_name

TileUrl = Callable[[TileStyle], str]
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_PROBE = "https://tile.openstreetmap.org/0/0/0.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
SIMPLIFY_DEG = 0.01
#: Tiers in the order a list of facilities in one place shows them.
TIER_ORDER = ("appeal", "tgi", "ti", "jpce", "specialized", "military", "other")


class GeoJustice(JSCSSMixin, MacroElement):
    """The page's own script and stylesheet (web/static/map.js, map.css: served at /static/gj/, or inlined)."""

    default_js = [("gj_js", "/static/gj/map.js")]
    default_css = [("gj_css", "/static/gj/map.css")]


class Script(MacroElement):
    """One call of a `geoJustice` helper on the map: `call` with `{map}` standing for the Leaflet map."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this.call.replace("{map}", this._parent.get_name()) }};
{% endmacro %}""")

    def __init__(self, call: str) -> None:
        super().__init__()
        self._name = "Script"
        self.call = call


def js(value: object) -> str:
    """`value` as a JavaScript literal (JSON, safe inside a <script>)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


class JsRef:
    """A JavaScript expression kept as is inside `js_call` arguments (a layer's variable name)."""

    def __init__(self, name: str) -> None:
        self.name = name


def js_call(function: str, *args: object) -> Script:
    """`geoJustice.function({map}, *args)`, with JsRef values (at any depth) left as variable names."""
    refs: dict[str, str] = {}

    def encode(value: object) -> object:
        if isinstance(value, JsRef):
            token = f"@@ref{len(refs)}@@"
            refs[token] = value.name
            return token
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        return value

    text = ", ".join(js(encode(a)) for a in args)
    for token, name in refs.items():
        text = text.replace(f'"{token}"', name)
    return Script(f"geoJustice.{function}({{map}}{', ' if args else ''}{text})")


class ExternalBasemap(MacroElement):
    """Adds OpenStreetMap under the layers only if one of its tiles loads; else the service's own basemap stays."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
    var probe = new Image();
    probe.onload = function () {
        var osm = L.tileLayer({{ this.url|tojson }}, {attribution: {{ this.attribution|tojson }}, maxZoom: 19});
        osm.addTo({{ this._parent.get_name() }});
        osm.bringToBack();
    };
    probe.src = {{ this.probe|tojson }};
})();
{% endmacro %}""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "ExternalBasemap"
        self.url, self.probe, self.attribution = OSM_URL, OSM_PROBE, OSM_ATTRIBUTION


class FitView(MacroElement):
    """Fits the map to bounds at once (no animation: layers added next load the final view's tiles only), beside
    the legend on a wide screen."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
    var wide = window.innerWidth >= 900;  // leave the legend's column free on a laptop
    {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {animate: false,
        paddingTopLeft: [wide ? 50 : 0, 0], paddingBottomRight: [wide ? 290 : 0, 0]});
})();
{% endmacro %}""")

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitView"
        self.bounds = bounds


def html_box(fmap: folium.Map, html_text: str, position: str = "topright", cls: str = "") -> None:
    """A fixed box of HTML on the map (title, summary)."""
    js_call("box", html_text, position, cls).add_to(fmap)


def sources_line(fmap: folium.Map, lang: str, sources: list[str]) -> None:
    """A one-line attribution in the page's language; "Sources" opens every source, with its modelled /
    synthetic label."""
    full = list(dict.fromkeys(sources))
    js_call("sources", short_sources(lang), label(lang, "sources"), label(lang, "sources_title"),
            full).add_to(fmap)


def short_sources(lang: str) -> str:
    """The attribution line's text: on a phone without its first words."""
    head, _, rest = label(lang, "data_short").partition(": ") if lang == "en" else label(lang, "data_short").partition(" : ")
    return f'<span class="gj-detail">{html.escape(head)}{": " if lang == "en" else " : "}</span>{html.escape(rest)}'


def _geojson(frame: gpd.GeoDataFrame | None, tolerance: float = SIMPLIFY_DEG) -> dict | None:
    """Geometry only, simplified for the page, WGS 84."""
    if frame is None or not len(frame):
        return None
    shapes = frame.to_crs("EPSG:4326").geometry.simplify(tolerance)
    return json.loads(gpd.GeoSeries(shapes[~shapes.is_empty], crs="EPSG:4326").to_json(drop_id=True))


def basemap_data(dataset) -> dict:
    """What the page draws itself under and over the rasters: the country, its regions, neighbouring borders,
    rivers, lakes, and towns [lat, lon, name, rank, population] (Natural Earth scalerank: lower is bigger)."""
    layers, shape = dataset.basemap, country.outline(dataset)
    places = layers.get("places")
    towns = [] if places is None else [  # towns abroad rank two steps lower: the country's own come first
        [round(float(g.y), 4), round(float(g.x), 4), str(n), int(r) + (0 if shape is None or shape.contains(g) else 2),
         int(p) if pd.notna(p) else 0]
        for g, n, r, p in zip(places.geometry, places["name"], places.get("scalerank", pd.Series(5, index=places.index)),
                              places.get("pop_max", pd.Series(0, index=places.index)))]
    towns += settlement_labels(dataset, {_plain(t[2]) for t in towns})
    return {"country": _geojson(dataset.country), "regions": _geojson(dataset.boundaries),
            "borders": _geojson(layers.get("borders")), "rivers": _geojson(layers.get("rivers")),
            "lakes": _geojson(layers.get("lakes")), "places": towns}


def _plain(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def settlement_labels(dataset, known: set[str]) -> list[list]:
    """The dataset's settlements not already named by Natural Earth, ranked by population so that they
    appear as one zooms in (rank 6 above 50,000 people, 7 above 20,000, 8 above 10,000, else 9)."""
    frame = dataset.settlements
    if frame is None or not len(frame):
        return []
    out = []
    for geometry, name, people in zip(frame.geometry, frame["name"], frame.get("population", pd.Series(0, index=frame.index))):
        people = float(people) if pd.notna(people) else 0.0
        if _plain(str(name)) not in known:
            rank = 6 if people > 50_000 else 7 if people > 20_000 else 8 if people > 10_000 else 9
            out.append([round(float(geometry.y), 4), round(float(geometry.x), 4), str(name), rank, int(people)])
    return out


def view_bounds(engine: Engine, params: AccessParams) -> list[list[float]]:
    """[[south, west], [north, east]] of the country (else the study area): the initial view."""
    west, south, east, north = bounds(engine, TileStyle("basemap", params))
    return [[south, west], [north, east]]


def new_map(lang: str, title: str, fit: list[list[float]]) -> folium.Map:
    """An empty map page in `lang`, fitted to `fit`, with the page's own script and styles."""
    (south, west), (north, east) = fit
    fmap = folium.Map(tiles=None, control_scale=True, zoom_start=5, location=((south + north) / 2, (west + east) / 2),
                      maxZoom=18, zoomSnap=0.5)  # maxZoom: a Leaflet option (folium's max_zoom goes to its own tiles)
    fmap.get_root().title = title
    fmap.page_lang = lang
    GeoJustice().add_to(fmap)
    FitView(fit).add_to(fmap)  # before any layer
    return fmap


def _base_map(engine: Engine, params: AccessParams, lang: str, tile_url: TileUrl | None,
              title: str | None = None) -> folium.Map:
    """A map fitted to the country on the service's own basemap (drawn with the page), with OpenStreetMap when
    reachable."""
    fmap = new_map(lang, title or label(lang, "title"), view_bounds(engine, params))
    basemap = TileStyle("basemap", params)
    if tile_url is None:
        layer = _raster(engine, basemap, label(lang, "basemap"), None, show=True, opacity=1.0)
    else:
        layer = service_tiles(tile_url(basemap), label(lang, "basemap"), overlay=False)
    layer.add_to(fmap)
    fmap.basemap_layer = layer
    js_call("basemap", basemap_data(engine.dataset)).add_to(fmap)
    ExternalBasemap().add_to(fmap)
    return fmap


def service_tiles(url: str, name: str, *, overlay: bool, show: bool = True, opacity: float = 1.0) -> folium.TileLayer:
    """The service's own tiles; their sources are in the page's sources line, not repeated per layer."""
    layer = folium.TileLayer(url, name=name, attr="geo-justice", overlay=overlay, show=show, opacity=opacity, max_zoom=18)
    layer.options.pop("attribution", None)
    return layer


def _raster(engine: Engine, style: TileStyle, name: str, tile_url: TileUrl | None, *, show: bool,
            opacity: float = 0.85) -> folium.map.Layer:
    """A raster layer as the service's tiles, or embedded as one image."""
    if tile_url is not None:
        return service_tiles(tile_url(style), name, overlay=True, show=show, opacity=opacity)
    png, corners = overlay_png(engine, style)
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    return folium.raster_layers.ImageOverlay(uri, bounds=[list(c) for c in corners], name=name, show=show,
                                             opacity=opacity, interactive=False)


def _value(lang: str, value: float) -> str:
    return number(lang, value, 0 if float(value).is_integer() else 1)


def raster_rows(lang: str, style: TileStyle) -> list[list]:
    """Legend rows ["swatch", colour, text] of a raster layer's classes."""
    rows = []
    for low, high, colour in ramp_of(style).legend():
        if low is None:
            text = label(lang, "unreachable")
        elif style.layer == "coverage":
            text = label(lang, "within" if high is not None else "beyond", t=style.threshold)
        elif high is None:
            text = f"> {_value(lang, low)}"
        else:
            text = f"{_value(lang, low)} – {_value(lang, high)}"
        rows.append(["swatch", colour, text])
    return rows


def section(layer: folium.map.Layer | None, title: str, rows: list[list]) -> dict:
    """A legend section shown while `layer` is on the map (always when None)."""
    return {"layer": JsRef(layer.get_name()) if layer is not None else None, "title": title, "rows": rows}


def raster_section(layer: folium.map.Layer, lang: str, style: TileStyle) -> dict:
    key = "basemap" if style.layer == "basemap" else style.layer
    return section(layer, label(lang, key, t=style.threshold), raster_rows(lang, style))


def court_rows(lang: str) -> list[list]:
    rows = [["symbol", "court", c, s, label(lang, s)] for s, c in STATUS_COLOURS.items()]
    return rows + [["count", label(lang, "many")]]


def _tier_rank(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)


def _facility_popup(row: pd.Series, lang: str, tiers: dict | None) -> str:
    lines = [f"<b>{html.escape(row['name'])}</b>",
             f"{label(lang, 'status')} : " if lang == "fr" else f"{label(lang, 'status')}: "]
    lines[1] += (f"{html.escape(label(lang, row['status']))} ({label(lang, 'as_of')} "
                 f"{html.escape(date_text(lang, row['status_as_of']))})")
    lines.append(f"{label(lang, 'source')}{' :' if lang == 'fr' else ':'} {html.escape(str(row['status_source']))}")
    if row.get("tier"):
        lines.insert(1, html.escape(tier_name(lang, str(row["tier"]), tiers)))
    if row["kind"] == "prison":
        for key in ("capacity", "detainees"):
            if pd.notna(row.get(key)):
                lines.append(f"{label(lang, key)}{' :' if lang == 'fr' else ':'} {number(lang, row[key])}")
    if row.get("sitting_name"):
        lines.append(f"{label(lang, 'sitting')}{' :' if lang == 'fr' else ':'} {html.escape(row['sitting_name'])}")
    return "<br>".join(lines)


def facility_items(frame: gpd.GeoDataFrame, lang: str, tiers: dict | None) -> list[dict]:
    """What the page's facility layer needs per court or prison: position, name, symbol, popup, order in lists."""
    items = []
    for _, row in frame.iterrows():
        court = row["kind"] == "court"
        status = row["status"] if row["status"] in STATUS_COLOURS else "unknown"
        items.append({"lat": round(row.geometry.y, 5), "lon": round(row.geometry.x, 5), "name": row["name"],
                      "shape": "court" if court else "prison", "status": status if court else "",
                      "colour": STATUS_COLOURS[status] if court else PRISON_COLOUR,
                      "html": _facility_popup(row, lang, tiers),
                      "order": _tier_rank(str(row.get("tier") or "")) if court else len(TIER_ORDER) + 1})
    return items


def _relocations(frame: gpd.GeoDataFrame, lang: str) -> folium.FeatureGroup:
    """Relocated courts: a dashed line from seat to sitting place, and a small ring where they sit."""
    moved = folium.FeatureGroup(name=label(lang, "relocated"))
    for _, row in frame[frame["sitting_name"].fillna("") != ""].iterrows():
        seat, sitting = (row.geometry.y, row.geometry.x), (float(row["sitting_lat"]), float(row["sitting_lon"]))
        colour = STATUS_COLOURS.get(row["status"], STATUS_COLOURS["unknown"])
        folium.PolyLine([seat, sitting], color="#333333", weight=2, dash_array="6 4",
                        tooltip=html.escape(f"{row['name']} → {row['sitting_name']}")).add_to(moved)
        folium.CircleMarker(sitting, radius=3, color=colour, fill=True, fill_opacity=1.0,
                            tooltip=html.escape(f"{label(lang, 'sitting')}: {row['sitting_name']}")).add_to(moved)
    return moved


def _facility_layers(engine: Engine, as_of: str, lang: str) -> tuple[list[folium.map.Layer], list[dict], list[dict]]:
    """Prisons, relocations and courts as layers; the facility script's input; their legend sections."""
    tiers = getattr(engine.dataset, "tiers", None)
    courts_frame = engine.dataset.facilities_as_of("court", as_of)
    courts = folium.FeatureGroup(name=label(lang, "courts", date=date_text(lang, as_of)))
    prisons = folium.FeatureGroup(name=label(lang, "prisons"))
    moved = _relocations(courts_frame, lang)
    groups = [{"group": JsRef(courts.get_name()), "items": facility_items(courts_frame, lang, tiers)},
              {"group": JsRef(prisons.get_name()),
               "items": facility_items(engine.dataset.facilities_as_of("prison", as_of), lang, tiers)}]
    sections = [section(courts, label(lang, "courts", date=date_text(lang, as_of)), court_rows(lang)),
                section(prisons, label(lang, "prisons"), [["symbol", "prison", PRISON_COLOUR, "", label(lang, "prison")]]),
                section(moved, label(lang, "relocated"), [["line", "#333333", "6 4", label(lang, "relocated_line")]])]
    return [moved, prisons, courts], groups, sections


CLUSTER_ICON = """function (cluster) {
    return L.divIcon({html: '<div class="gj-cluster">' + cluster.getChildCount() + '</div>', className: 'gj-cluster-icon',
                      iconSize: [26, 26]});
}"""


def _incidents(engine: Engine, window: Interval, lang: str) -> tuple[list[folium.map.Layer], list[str], list[dict]]:
    """Raw events clustered; licence-restricted ones only as per-cell aggregates. Their attributions and legend."""
    frame, sources = incidents_view(engine.dataset, window, raw_allowed=False)
    start, end = (date_text(lang, d) if d is not None else ".." for d in (window.start, window.end))
    name = label(lang, "incidents", start=start, end=end)
    cluster = folium.plugins.MarkerCluster(name=name, icon_create_function=CLUSTER_ICON,
                                           options={"showCoverageOnHover": False, "maxClusterRadius": 40})
    cells = folium.FeatureGroup(name=label(lang, "incidents_aggregated"))
    for _, row in frame.iterrows():
        if row["kind"] == "aggregate":
            west, south, east, north = row.geometry.bounds
            text = (f"{number(lang, row['incidents'])} {label(lang, 'events')}, {number(lang, row['fatalities'])} "
                    f"{label(lang, 'fatalities')} ({start} – {end}; {html.escape(row['source_dataset'])})")
            folium.Rectangle([[south, west], [north, east]], color=INCIDENT_COLOUR, weight=1, fill=True,
                             fill_opacity=min(0.15 + 0.05 * row["incidents"], 0.7), tooltip=text).add_to(cells)
        else:
            text = (f"{date_text(lang, row['date'])} : " if lang == "fr" else f"{date_text(lang, row['date'])}: ")
            text += (f"{html.escape(str(row['event_type']))}, {number(lang, row['fatalities'] or 0)} "
                     f"{label(lang, 'fatalities')} ({html.escape(row['source_dataset'])})")
            folium.Marker((row.geometry.y, row.geometry.x), tooltip=text,
                          icon=folium.DivIcon(html='<div class="gj-tri"></div>', icon_size=(12, 11), icon_anchor=(6, 6),
                                              class_name="gj-incident")).add_to(cluster)
    sections = [section(cluster, name, [["symbol", "incident", INCIDENT_COLOUR, "", label(lang, "incident")],
                                        ["cluster", label(lang, "cluster")]]),
                section(cells, label(lang, "incidents_aggregated"), [["area", INCIDENT_COLOUR, INCIDENT_COLOUR,
                                                                      label(lang, "incident_cell")]])]
    return [cluster, cells], sources, sections


def _outlines(frame: gpd.GeoDataFrame, name: str, fields: list[str], aliases: list[str], style: dict,
              show: bool, lang: str) -> folium.GeoJson:
    """Polygons, simplified for the page, with a popup of `fields` (numbers written in `lang`)."""
    slim = frame[fields + ["geometry"]].copy()
    slim["geometry"] = slim.geometry.simplify(SIMPLIFY_DEG)
    for column in fields:
        if pd.api.types.is_numeric_dtype(slim[column]):
            slim[column] = [number(lang, v) for v in slim[column]]
    return folium.GeoJson(slim.to_json(), name=name, show=show, style_function=lambda _: style,
                          popup=folium.GeoJsonPopup(fields=fields, aliases=aliases))


def default_window(params: AccessParams) -> Interval:
    """The conflict window before `as_of`: the incidents the travel times were penalised by."""
    end = pd.Timestamp(params.as_of)
    return Interval(end - pd.Timedelta(days=params.conflict.window_days), end)


def _finish(fmap: folium.Map, lang: str, sections: list[dict], sources: list[str]) -> None:
    """Legend, sources line, the layer control (open on a laptop, an icon on a phone)."""
    js_call("legend", sections, label(lang, "legend")).add_to(fmap)
    sources_line(fmap, lang, sources)
    folium.LayerControl(collapsed=True, position="topleft").add_to(fmap)
    js_call("responsive").add_to(fmap)


def coverage_map(engine: Engine, params: AccessParams, *, threshold: float = 120.0, lang: str = "fr",
                 window: Interval | None = None, tile_url: TileUrl | None = None) -> folium.Map:
    """Travel time and coverage, courts by status, relocations, prisons, incidents, catchments and gap hotspots."""
    check_lang(lang)
    params = engine.complete(params)
    window = window or default_window(params)
    fmap = _base_map(engine, params, lang, tile_url)
    rasters = []
    styles = [TileStyle(layer, params, threshold) for layer in ("traveltime", "coverage", "risk")]
    for style, show in zip(styles, (True, False, False)):
        layer = _raster(engine, style, label(lang, style.layer, t=threshold), tile_url, show=show)
        layer.add_to(fmap)
        rasters.append(raster_section(layer, lang, style))
    rasters.append(raster_section(fmap.basemap_layer, lang, TileStyle("basemap", params)))
    sections: list[dict] = []
    year = engine.people(params.as_of).year  # head counts say which year's people they count
    people = f"{label(lang, 'population')} ({year})" if year else label(lang, "population")
    catchments = analysis.catchment_areas(engine, params).layers["catchments"]
    layer = _outlines(catchments, label(lang, "catchments"), ["name", "population"],
                      [label(lang, "courts", date=date_text(lang, params.as_of)), people],
                      {"fill": False, "color": "#444444", "weight": 1}, False, lang)
    layer.add_to(fmap)
    sections.append(section(layer, label(lang, "catchments"), [["line", "#444444", "", label(lang, "catchment_line")]]))
    gaps = analysis.access_gaps(engine, params, threshold).layers["gaps"]
    if len(gaps):
        layer = _outlines(gaps, label(lang, "gaps", t=threshold), ["name", "population"], ["", people],
                          {"color": "#cc79a7", "weight": 2, "fillColor": "#cc79a7", "fillOpacity": 0.3}, True, lang)
        layer.add_to(fmap)
        sections.append(section(layer, label(lang, "gaps", t=threshold),
                                [["area", "#cc79a7", "#cc79a7", label(lang, "gap_area")]]))
    incident_sources: list[str] = []
    if engine.dataset.incidents is not None:
        incident_layers, incident_sources, incident_sections = _incidents(engine, window, lang)
        for layer in incident_layers:
            layer.add_to(fmap)
        sections = incident_sections + sections
    facility_layers, groups, facility_sections = _facility_layers(engine, params.as_of, lang)
    for layer in facility_layers:
        layer.add_to(fmap)
    js_call("facilities", groups, {"here": label(lang, "here", n="{n}")}).add_to(fmap)
    title = (f"<b>{html.escape(label(lang, 'title'))}</b><span class=\"gj-detail\"><br>"
             f"{html.escape(label(lang, 'mode_' + params.mode))}, {html.escape(date_text(lang, params.as_of))}</span>")
    html_box(fmap, title, "topright", "gj-title")
    sources = [*attribution(engine, styles[1]), *attribution(engine, styles[0]), *incident_sources, *reference_sources(engine.dataset)]
    _finish(fmap, lang, facility_sections + sections + rasters, sources)
    return fmap


def reference_sources(dataset) -> list[str]:
    """Where the drawn geography comes from (the boundary and Natural Earth layers' own READMEs say more)."""
    out = []
    if dataset.country is not None or dataset.boundaries is not None:
        out.append("Boundaries: geoBoundaries (CC BY 4.0)")
    if dataset.basemap:
        out.append("Rivers, lakes, borders, towns: Natural Earth (public domain)")
    return out


GAINED, LOST, ADDED = "#009e73", "#d55e00", "#0072b2"
MOBILE = "#cc79a7"


def scenario_map(engine: Engine, params: AccessParams, change: Scenario, *, threshold: float = 120.0, lang: str = "fr",
                 tile_url: TileUrl | None = None) -> folium.Map:
    """Where people gain or lose access within `threshold` under the scenario, and its courts with their catchment change."""
    check_lang(lang)
    params = engine.complete(params)
    result = analysis.scenario_delta(engine, change, params, (threshold,))
    fmap = _base_map(engine, params, lang, tile_url, title=change.name)
    style = TileStyle("traveltime", params, threshold)
    baseline = _raster(engine, style, label(lang, "baseline_traveltime"), tile_url, show=False)
    baseline.add_to(fmap)
    sections = []
    changes = result.layers["changes"]
    for kind, colour in (("gained", GAINED), ("lost", LOST)):
        rows = changes[changes["change"] == kind]
        if len(rows):  # an empty category is left out, of the map and of the legend
            layer = _outlines(rows, label(lang, kind, t=threshold), ["population"], [label(lang, "population")],
                              {"color": colour, "weight": 4, "opacity": 0.9, "fillColor": colour, "fillOpacity": 0.5}, True,
                              lang)
            layer.add_to(fmap)
            sections.append(section(layer, label(lang, kind, t=threshold), [["area", colour, colour, label(lang, f"{kind}_area")]]))
    delta = result.layers["facilities"].set_index("id")
    group = folium.FeatureGroup(name=label(lang, "scenario_courts"))
    mobile = {f"scenario-{n}": c.sessions_per_year for n, c in enumerate(change.changes, start=1) if c in change.mobile}
    items, kinds = [], set()
    for _, row in scenario_facilities(engine.dataset, change, params).iterrows():
        added, is_mobile = row["id"].startswith("scenario-"), row["tier"] == MOBILE_TIER
        status = label(lang, "mobile", n=mobile[row["id"]]) if is_mobile else (
            label(lang, "added") if added else label(lang, row["status"]))
        before, after = delta.loc[row["id"], ["baseline_population", "scenario_population"]]
        popup = (f"<b>{html.escape(row['name'])}</b><br>{html.escape(status)}<br>"
                 f"{label(lang, 'population')}: {label(lang, 'before')} {number(lang, before)}, "
                 f"{label(lang, 'after')} {number(lang, after)}")
        shape = "mobile" if is_mobile else "added" if added else "court"
        kinds.add(shape)
        court_status = row["status"] if row["status"] in STATUS_COLOURS else "unknown"
        items.append({"lat": round(row.geometry.y, 5), "lon": round(row.geometry.x, 5), "name": row["name"],
                      "shape": shape, "status": "" if shape != "court" else court_status,
                      "colour": {"mobile": MOBILE, "added": ADDED}.get(shape, STATUS_COLOURS[court_status]),
                      "html": popup, "order": 0 if shape != "court" else 1 + _tier_rank(str(row.get("tier") or ""))})
    group.add_to(fmap)
    js_call("facilities", [{"group": JsRef(group.get_name()), "items": items}], {"here": label(lang, "here", n="{n}")}).add_to(fmap)
    rows = [r for r in [["symbol", "added", ADDED, "", label(lang, "added")] if "added" in kinds else None,
                        ["symbol", "mobile", MOBILE, "", label(lang, "mobile", n=0).split("(")[0].strip()]
                        if "mobile" in kinds else None] if r] + court_rows(lang)
    sections.insert(0, section(group, label(lang, "scenario_courts"), rows))
    total = result.summary.set_index("region").loc["All"]
    title = (f"<b>{html.escape(change.name)}</b><span class=\"gj-detail\"><br>{html.escape(change.description)}</span><br>"
             f"{html.escape(label(lang, 'gained', t=threshold))} : {number(lang, total[f'gained_{threshold:g}'])}<br>"
             f"{html.escape(label(lang, 'lost', t=threshold))} : {number(lang, total[f'lost_{threshold:g}'])}")
    html_box(fmap, title if lang == "fr" else title.replace(" : ", ": "), "topright", "gj-title")
    sections.append(raster_section(baseline, lang, style))
    _finish(fmap, lang, sections, [*attribution(engine, style), *reference_sources(engine.dataset)])
    return fmap


def embed_title(engine: Engine, style: TileStyle, lang: str) -> str:
    """What the embed shows, where, as of when."""
    what = label(lang, {"courts": "court_status", "prisons": "prisons"}.get(style.layer, style.layer), t=style.threshold,
                 start="", end="").replace(" ( au )", "").replace(" ( to )", "")
    where = country.name(engine.dataset) or label(lang, "country_default")
    return label(lang, "embed_title", what=what, where=where, date=date_text(lang, style.params.as_of))


def embed_map(engine: Engine, style: TileStyle, tile_url: TileUrl, *, lang: str = "fr") -> folium.Map:
    """One layer on the service's tiles, full page, with its title, legend and sources: for an iframe."""
    check_lang(lang)
    title = embed_title(engine, style, lang)
    fmap = _base_map(engine, style.params, lang, tile_url, title=title)
    layer = service_tiles(tile_url(style), title, overlay=True, opacity=0.85)
    layer.add_to(fmap)
    html_box(fmap, f"<b>{html.escape(title)}</b>", "topright", "gj-title")
    if style.layer in RASTER_LAYERS:
        sections = [raster_section(layer, lang, style)]
    elif style.layer == "courts":
        sections = [section(layer, label(lang, "court_status"),
                            [["swatch", c, label(lang, s)] for s, c in STATUS_COLOURS.items()])]
    elif style.layer == "prisons":
        sections = [section(layer, label(lang, "prisons"), [["swatch", PRISON_COLOUR, label(lang, "prison")]])]
    else:
        sections = [section(layer, label(lang, "incident"), [["swatch", INCIDENT_COLOUR, label(lang, "incident")]])]
    js_call("legend", sections, label(lang, "legend")).add_to(fmap)
    sources_line(fmap, lang, [*attribution(engine, style), *reference_sources(engine.dataset)])
    return fmap


FAVICON = "data:image/svg+xml," + quote(asset_path("gj/favicon.svg").read_text(encoding="utf-8").strip())
VIEWPORT = re.compile(r'<meta name="viewport" content="[^"]*"\s*/>')


def page(fmap: folium.Map, *, self_contained: bool = False) -> str:
    """The map's HTML with Leaflet from the service (`/static/`), or inlined into the page; `<html lang>`, a
    zoomable viewport and a favicon."""
    text = localise(fmap).get_root().render()
    text = text.replace("<html>", f'<html lang="{getattr(fmap, "page_lang", "fr")}">', 1)
    text = text.replace("<head>", f'<head>\n    <link rel="icon" href="{FAVICON}"/>', 1)
    text = VIEWPORT.sub('<meta name="viewport" content="width=device-width, initial-scale=1.0" />', text, count=1)
    return inline(text) if self_contained else text
