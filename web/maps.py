"""Folium pages: the coverage map and the embeddable one-layer map, in French or English, with no CDN.

Raster layers come either from the service's tiles (`tile_url` given: a served page) or, for a
self-contained file, as one Mercator image each, embedded in the page.
"""
from __future__ import annotations

import base64
import html
from collections.abc import Callable

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.collections import Interval, incidents_view
from geo_justice.colours import INCIDENT_COLOUR, PRISON_COLOUR, STATUS_COLOURS, Ramp
from geo_justice.scenarios import MOBILE_TIER, Scenario, scenario_facilities
from geo_justice.tiles import RASTER_LAYERS, TileStyle, attribution, bounds, overlay_png, ramp_of

from .assets import inline, localise
from .i18n import check_lang, label, number

TileUrl = Callable[[TileStyle], str]
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_PROBE = "https://tile.openstreetmap.org/0/0/0.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
SIMPLIFY_DEG = 0.01


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
    """Fits the map to bounds at once (no animation: layers added next load the final view's tiles only)."""

    _template = Template("""
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {animate: false});
{% endmacro %}""")

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitView"
        self.bounds = bounds


class HtmlControl(MacroElement):
    """A fixed box of HTML on the map (legend, title)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
    var box = L.control({position: {{ this.position|tojson }}});
    box.onAdd = function () {
        var div = L.DomUtil.create("div", "geo-justice-box");
        div.style.cssText = "background:rgba(255,255,255,0.92);padding:6px 8px;font:12px/1.4 sans-serif;"
            + "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,0.3);max-width:280px";
        div.innerHTML = {{ this.html|tojson }};
        return div;
    };
    box.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}""")

    def __init__(self, html_text: str, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html, self.position = html_text, position


class Attribution(MacroElement):
    """Every source in the map's attribution control."""

    _template = Template("""
{% macro script(this, kwargs) %}
{%- for text in this.sources %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ text|tojson }});
{%- endfor %}
{% endmacro %}""")

    def __init__(self, sources: list[str]) -> None:
        super().__init__()
        self._name = "Attribution"
        self.sources = [html.escape(s) for s in dict.fromkeys(sources)]


def _base_map(engine: Engine, params: AccessParams, lang: str, tile_url: TileUrl | None) -> folium.Map:
    """A map fitted to the study area on the service's own basemap, with OpenStreetMap when reachable."""
    west, south, east, north = bounds(engine, TileStyle("basemap", params))
    fmap = folium.Map(tiles=None, control_scale=True, zoom_start=5, location=((south + north) / 2, (west + east) / 2),
                      maxZoom=18)  # a Leaflet option (folium's max_zoom goes to its own tiles): the clusters need it
    fmap.get_root().title = label(lang, "title")
    FitView([[south, west], [north, east]]).add_to(fmap)  # before any layer
    basemap = TileStyle("basemap", params)
    if tile_url is None:
        _raster(engine, basemap, label(lang, "basemap"), None, show=True, opacity=1.0).add_to(fmap)
    else:
        folium.TileLayer(tile_url(basemap), name=label(lang, "basemap"), attr="geo-justice", overlay=False,
                         max_zoom=18).add_to(fmap)
    ExternalBasemap().add_to(fmap)
    return fmap


def _raster(engine: Engine, style: TileStyle, name: str, tile_url: TileUrl | None, *, show: bool,
            opacity: float = 0.85) -> folium.map.Layer:
    """A raster layer as the service's tiles, or embedded as one image."""
    if tile_url is not None:
        return folium.TileLayer(tile_url(style), name=name, attr="geo-justice", overlay=True, show=show,
                                opacity=opacity, max_zoom=18)
    png, corners = overlay_png(engine, style)
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    return folium.raster_layers.ImageOverlay(uri, bounds=[list(c) for c in corners], name=name, show=show,
                                             opacity=opacity, interactive=False)


def _legend_rows(ramp: Ramp, lang: str, style: TileStyle) -> list[tuple[str, str]]:
    rows = []
    for low, high, colour in ramp.legend():
        if low is None:
            text = label(lang, "unreachable")
        elif style.layer == "coverage":
            text = label(lang, "within" if high is not None else "beyond", t=style.threshold)
        elif high is None:
            text = f"> {low:g}"
        else:
            text = f"{low:g} – {high:g}"
        rows.append((colour, text))
    return rows


def legend_html(lang: str, style: TileStyle, with_status: bool) -> str:
    """Swatches of the raster layer's classes and, when asked, of the court statuses."""
    title = label(lang, style.layer, t=style.threshold) if style.layer in RASTER_LAYERS else label(lang, "legend")
    parts = [f"<b>{html.escape(title)}</b><br>"] if style.layer in RASTER_LAYERS else []
    swatch = '<span style="display:inline-block;width:14px;height:10px;margin-right:4px;background:{}"></span>{}<br>'
    if style.layer in RASTER_LAYERS:
        parts += [swatch.format(c, html.escape(t)) for c, t in _legend_rows(ramp_of(style), lang, style)]
    if with_status or style.layer == "courts":
        parts.append(f"<b>{html.escape(label(lang, 'court_status'))}</b><br>")
        dot = '<span style="display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;background:{}"></span>{}<br>'
        parts += [dot.format(c, html.escape(label(lang, s))) for s, c in STATUS_COLOURS.items()]
    return "".join(parts) or html.escape(title)


def _facility_popup(row: pd.Series, lang: str) -> str:
    lines = [f"<b>{html.escape(row['name'])}</b>",
             f"{label(lang, 'status')}: {html.escape(label(lang, row['status']))} ({label(lang, 'as_of')} "
             f"{html.escape(str(row['status_as_of'])[:10])})",
             f"{label(lang, 'source')}: {html.escape(str(row['status_source']))}"]
    if row.get("tier"):
        lines.insert(1, f"{label(lang, 'tier')}: {html.escape(str(row['tier']))}")
    if row["kind"] == "prison":
        for key in ("capacity", "detainees"):
            if pd.notna(row.get(key)):
                lines.append(f"{label(lang, key)}: {number(lang, row[key])}")
    if row.get("sitting_name"):
        lines.append(f"{label(lang, 'sitting')}: {html.escape(row['sitting_name'])}")
    return "<br>".join(lines)


def _facilities(engine: Engine, kind: str, as_of: str, lang: str) -> list[folium.FeatureGroup]:
    """Courts coloured by status (relocated ones with a line from seat to sitting place), or prisons."""
    frame = engine.dataset.facilities_as_of(kind, as_of)
    name = label(lang, "courts", date=as_of) if kind == "court" else label(lang, "prisons")
    group, moved = folium.FeatureGroup(name=name), folium.FeatureGroup(name=label(lang, "relocated"))
    for _, row in frame.iterrows():
        colour = STATUS_COLOURS.get(row["status"], STATUS_COLOURS["unknown"])
        seat = (row.geometry.y, row.geometry.x)
        fill = colour if kind == "court" else PRISON_COLOUR
        folium.CircleMarker(seat, radius=6 if kind == "court" else 5, color=colour if kind == "prison" else "#ffffff",
                            weight=2, fill=True, fill_color=fill, fill_opacity=0.95, tooltip=html.escape(row["name"]),
                            popup=folium.Popup(_facility_popup(row, lang), max_width=300)).add_to(group)
        if row.get("sitting_name"):
            sitting = (float(row["sitting_lat"]), float(row["sitting_lon"]))
            folium.PolyLine([seat, sitting], color="#333333", weight=2, dash_array="6 4",
                            tooltip=html.escape(f"{row['name']} → {row['sitting_name']}")).add_to(moved)
            folium.CircleMarker(sitting, radius=3, color=colour, fill=True, fill_opacity=1.0,
                                tooltip=html.escape(f"{label(lang, 'sitting')}: {row['sitting_name']}")).add_to(moved)
    return [group, moved] if kind == "court" else [group]


def _incidents(engine: Engine, window: Interval, lang: str) -> tuple[list[folium.map.Layer], list[str]]:
    """Raw events clustered; licence-restricted ones only as per-cell aggregates. Also their attributions."""
    frame, sources = incidents_view(engine.dataset, window, raw_allowed=False)
    start, end = (d.strftime("%Y-%m-%d") if d is not None else ".." for d in (window.start, window.end))
    cluster = folium.plugins.MarkerCluster(name=label(lang, "incidents", start=start, end=end))
    cells = folium.FeatureGroup(name=label(lang, "incidents_aggregated"))
    for _, row in frame.iterrows():
        if row["kind"] == "aggregate":
            west, south, east, north = row.geometry.bounds
            text = (f"{number(lang, row['incidents'])} {label(lang, 'events')}, {number(lang, row['fatalities'])} "
                    f"{label(lang, 'fatalities')} ({start} – {end}; {html.escape(row['source_dataset'])})")
            folium.Rectangle([[south, west], [north, east]], color=INCIDENT_COLOUR, weight=1, fill=True,
                             fill_opacity=min(0.15 + 0.05 * row["incidents"], 0.7), tooltip=text).add_to(cells)
        else:
            text = (f"{row['date']:%Y-%m-%d} {html.escape(str(row['event_type']))}, "
                    f"{number(lang, row['fatalities'] or 0)} {label(lang, 'fatalities')} ({html.escape(row['source_dataset'])})")
            folium.CircleMarker((row.geometry.y, row.geometry.x), radius=4, color=INCIDENT_COLOUR, fill=True,
                                fill_opacity=0.8, weight=1, tooltip=text).add_to(cluster)
    return [cluster, cells], sources


def _outlines(frame: gpd.GeoDataFrame, name: str, fields: list[str], aliases: list[str], style: dict,
              show: bool) -> folium.GeoJson:
    """Polygons, simplified for the page, with a popup of `fields`."""
    slim = frame[fields + ["geometry"]].copy()
    slim["geometry"] = slim.geometry.simplify(SIMPLIFY_DEG)
    for column in fields:
        if pd.api.types.is_float_dtype(slim[column]):
            slim[column] = slim[column].round(0).astype("int64")
    return folium.GeoJson(slim.to_json(), name=name, show=show, style_function=lambda _: style,
                          popup=folium.GeoJsonPopup(fields=fields, aliases=aliases))


def default_window(params: AccessParams) -> Interval:
    """The conflict window before `as_of`: the incidents the travel times were penalised by."""
    end = pd.Timestamp(params.as_of)
    return Interval(end - pd.Timedelta(days=params.conflict.window_days), end)


def coverage_map(engine: Engine, params: AccessParams, *, threshold: float = 120.0, lang: str = "fr",
                 window: Interval | None = None, tile_url: TileUrl | None = None) -> folium.Map:
    """Travel time and coverage, courts by status, relocations, prisons, incidents, catchments and gap hotspots."""
    check_lang(lang)
    params = engine.complete(params)
    window = window or default_window(params)
    fmap = _base_map(engine, params, lang, tile_url)
    styles = [TileStyle(layer, params, threshold) for layer in ("traveltime", "coverage", "risk")]
    for style, show in zip(styles, (True, False, False)):
        _raster(engine, style, label(lang, style.layer, t=threshold), tile_url, show=show).add_to(fmap)
    year = engine.people(params.as_of).year  # head counts say which year's people they count
    people = f"{label(lang, 'population')} ({year})" if year else label(lang, "population")
    catchments = analysis.catchment_areas(engine, params).layers["catchments"]
    _outlines(catchments, label(lang, "catchments"), ["name", "population"], [label(lang, "courts", date=params.as_of),
              people], {"fill": False, "color": "#444444", "weight": 1}, False).add_to(fmap)
    gaps = analysis.access_gaps(engine, params, threshold).layers["gaps"]
    if len(gaps):
        _outlines(gaps, label(lang, "gaps", t=threshold), ["name", "population"], ["", people],
                  {"color": "#7b3294", "weight": 2, "fillColor": "#c2a5cf", "fillOpacity": 0.35}, True).add_to(fmap)
    incident_layers, incident_sources = _incidents(engine, window, lang) if engine.dataset.incidents is not None else ([], [])
    for layer in [*_facilities(engine, "prison", params.as_of, lang), *incident_layers,
                  *_facilities(engine, "court", params.as_of, lang)]:
        layer.add_to(fmap)
    title = (f"<b>{html.escape(label(lang, 'title'))}</b><br>{html.escape(label(lang, 'mode_' + params.mode))}, "
             f"{html.escape(params.as_of)}")
    HtmlControl(title, "topright").add_to(fmap)
    HtmlControl(legend_html(lang, styles[0], with_status=True)).add_to(fmap)
    sources = [*attribution(engine, styles[1]), *attribution(engine, styles[0]), *incident_sources]
    Attribution(sources).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)
    return fmap


GAINED, LOST, ADDED = "#1a9850", "#d73027", "#2c7bb6"


def scenario_map(engine: Engine, params: AccessParams, change: Scenario, *, threshold: float = 120.0, lang: str = "fr",
                 tile_url: TileUrl | None = None) -> folium.Map:
    """Where people gain or lose access within `threshold` under the scenario, and its courts with their catchment change."""
    check_lang(lang)
    params = engine.complete(params)
    result = analysis.scenario_delta(engine, change, params, (threshold,))
    fmap = _base_map(engine, params, lang, tile_url)
    _raster(engine, TileStyle("traveltime", params, threshold), label(lang, "baseline_traveltime"), tile_url,
            show=False).add_to(fmap)
    changes = result.layers["changes"]
    for kind, colour in (("gained", GAINED), ("lost", LOST)):
        rows = changes[changes["change"] == kind]
        if len(rows):
            _outlines(rows, label(lang, kind, t=threshold), ["population"], [label(lang, "population")],
                      {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.5}, True).add_to(fmap)
    delta = result.layers["facilities"].set_index("id")
    group = folium.FeatureGroup(name=label(lang, "scenario_courts"))
    mobile = {f"scenario-{n}": c.sessions_per_year for n, c in enumerate(change.changes, start=1) if c in change.mobile}
    for _, row in scenario_facilities(engine.dataset, change, params).iterrows():
        added = row["id"].startswith("scenario-")
        status = label(lang, "mobile", n=mobile[row["id"]]) if row["tier"] == MOBILE_TIER else (
            label(lang, "added") if added else label(lang, row["status"]))
        before, after = delta.loc[row["id"], ["baseline_population", "scenario_population"]]
        popup = (f"<b>{html.escape(row['name'])}</b><br>{html.escape(status)}<br>"
                 f"{label(lang, 'population')}: {label(lang, 'before')} {number(lang, before)}, "
                 f"{label(lang, 'after')} {number(lang, after)}")
        colour = ADDED if added else STATUS_COLOURS.get(row["status"], STATUS_COLOURS["unknown"])
        folium.CircleMarker((row.geometry.y, row.geometry.x), radius=7 if added else 5, color="#ffffff", weight=2,
                            fill=True, fill_color=colour, fill_opacity=0.95, tooltip=html.escape(row["name"]),
                            popup=folium.Popup(popup, max_width=300)).add_to(group)
    group.add_to(fmap)
    total = result.summary.set_index("region").loc["All"]
    title = (f"<b>{html.escape(change.name)}</b><br>{html.escape(change.description)}<br>"
             f"{html.escape(label(lang, 'gained', t=threshold))}: {number(lang, total[f'gained_{threshold:g}'])}<br>"
             f"{html.escape(label(lang, 'lost', t=threshold))}: {number(lang, total[f'lost_{threshold:g}'])}")
    HtmlControl(title, "topright").add_to(fmap)
    swatch = '<span style="display:inline-block;width:14px;height:10px;margin-right:4px;background:{}"></span>{}<br>'
    HtmlControl("".join(swatch.format(c, html.escape(label(lang, k, t=threshold)))
                        for k, c in (("gained", GAINED), ("lost", LOST)))).add_to(fmap)
    Attribution(attribution(engine, TileStyle("traveltime", params, threshold))).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)
    return fmap


def embed_map(engine: Engine, style: TileStyle, tile_url: TileUrl, *, lang: str = "fr") -> folium.Map:
    """One layer on the service's tiles, full page, with its legend and attribution: for an iframe."""
    check_lang(lang)
    fmap = _base_map(engine, style.params, lang, tile_url)
    folium.TileLayer(tile_url(style), name=style.layer, attr="geo-justice", overlay=True, opacity=0.85,
                     max_zoom=18).add_to(fmap)
    if style.layer in RASTER_LAYERS or style.layer == "courts":
        HtmlControl(legend_html(lang, style, with_status=False)).add_to(fmap)
    Attribution(attribution(engine, style)).add_to(fmap)
    return fmap


def page(fmap: folium.Map, *, self_contained: bool = False) -> str:
    """The map's HTML with Leaflet from the service (`/static/`), or inlined into the page."""
    text = localise(fmap).get_root().render()
    return inline(text) if self_contained else text
