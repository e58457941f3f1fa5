"""Faces of a timeline: a chart of coverage over time (matplotlib PNG/SVG for reports, a Vega-Lite page for
the web, its JavaScript inlined by vl-convert: no CDN) and a map with a time slider (coverage per region
and court status by date). French and English.
"""
from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence

import folium
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geo_justice.access import Engine
from geo_justice.analysis import AnalysisResult
from geo_justice.colours import STATUS_COLOURS

from .i18n import check_lang, label
from .maps import _finish, html_box, new_map, page, reference_sources, section

TEXT = {
    "fr": {"title": "Accès à un tribunal en fonction, {start} – {end}", "share": "Population à moins de {t:g} min",
           "actual": "réel (tribunaux en fonction, là où ils siègent)", "nominal": "nominal (tous les tribunaux, à leur siège)",
           "region": "réel, {region}", "date": "Date", "series": "Série", "events": "changements de statut",
           "closed": "fermés", "reopened": "rouverts", "relocated": "délocalisés", "slider": "Date",
           "coverage": "Part à moins de {t:g} min (réel)", "map_title": "Accès à la justice dans le temps",
           "note": "Population modélisée ; statuts en partie supposés (voir data/README.md)."},
    "en": {"title": "Access to a working court, {start} – {end}", "share": "Population within {t:g} min",
           "actual": "actual (working courts at their sitting place)", "nominal": "nominal (every court at its seat)",
           "region": "actual, {region}", "date": "Date", "series": "Series", "events": "status changes",
           "closed": "closed", "reopened": "reopened", "relocated": "relocated", "slider": "Date",
           "coverage": "Share within {t:g} min (actual)", "map_title": "Access to justice over time",
           "note": "Modelled population; statuses partly assumed (see data/README.md)."},
}


def _text(lang: str, key: str, **values: object) -> str:
    return TEXT[check_lang(lang)][key].format(**values)


def chart_threshold(result: AnalysisResult, threshold: float | None = None) -> float:
    """The threshold to draw: the one asked if computed, else 120 minutes if computed, else the largest."""
    computed = [float(t) for t in result.manifest["parameters"]["thresholds"]]
    if threshold is not None:
        if float(threshold) not in computed:
            raise ValueError(f"threshold {threshold:g} was not computed; the timeline has {', '.join(f'{t:g}' for t in computed)}")
        return float(threshold)
    return 120.0 if 120.0 in computed else max(computed)


def series(result: AnalysisResult, lang: str, regions: Sequence[str] = (), threshold: float | None = None) -> pd.DataFrame:
    """Long table date, series, share: actual and nominal overall, and actual for each region asked."""
    t = chart_threshold(result, threshold)
    overall, per_region = result.layers["timeline"], result.layers["regions"]
    unknown = sorted(set(regions) - set(per_region["region"]))
    if unknown:
        raise ValueError(f"region {unknown[0]!r} is not in the timeline; regions are {', '.join(sorted(set(per_region['region'])))}")
    parts = [pd.DataFrame({"date": overall["date"], "series": _text(lang, mode), "share": overall[f"{mode}_share_{t:g}"]})
             for mode in ("actual", "nominal")]
    for region in regions:
        rows = per_region[per_region["region"] == region]
        parts.append(pd.DataFrame({"date": rows["date"], "series": _text(lang, "region", region=region),
                                   "share": rows[f"actual_share_{t:g}"]}))
    out = pd.concat(parts, ignore_index=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


def status_changes(result: AnalysisResult, lang: str) -> pd.DataFrame:
    """Dates where the courts' statuses or sitting places changed, with a short label (e.g. '24 fermés')."""
    table = result.layers["timeline"]
    counts = table[["courts_closed", "courts_operational", "courts_partial", "courts_relocated"]].astype(int)
    working = counts["courts_operational"] + counts["courts_partial"]
    rows = []
    for i in range(1, len(table)):
        parts = []
        closed, opened = counts["courts_closed"].iat[i] - counts["courts_closed"].iat[i - 1], working.iat[i] - working.iat[i - 1]
        moved = counts["courts_relocated"].iat[i] - counts["courts_relocated"].iat[i - 1]
        if closed > 0:
            parts.append(f"{closed} {_text(lang, 'closed')}")
        if opened > 0:
            parts.append(f"{opened} {_text(lang, 'reopened')}")
        if moved:
            parts.append(f"{moved:+d} {_text(lang, 'relocated')}")
        if parts or not counts.iloc[i].equals(counts.iloc[i - 1]):
            rows.append({"date": pd.Timestamp(table["date"].iat[i]), "label": ", ".join(parts) or _text(lang, "events")})
    return pd.DataFrame(rows, columns=["date", "label"])


def chart_image(result: AnalysisResult, fmt: str = "png", *, lang: str = "fr", regions: Sequence[str] = (),
                threshold: float | None = None) -> bytes:
    """The coverage chart as PNG or SVG bytes (matplotlib): actual vs nominal, regions asked, status changes marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    if fmt not in ("png", "svg"):
        raise ValueError(f"chart format must be png or svg, not {fmt!r}")
    t = chart_threshold(result, threshold)
    lines = series(result, lang, regions, t)
    changes = status_changes(result, lang)
    figure, axes = plt.subplots(figsize=(10, 4.8), dpi=120)
    try:
        for number, (name, rows) in enumerate(lines.groupby("series", sort=False)):
            style = "--" if number == 1 else "-"
            axes.step(rows["date"], rows["share"] * 100, where="post", linestyle=style, linewidth=2 if number < 2 else 1.3,
                      label=name)
        top = max(lines["share"].max() * 100 * 1.4, 1)  # room above the lines for the labels
        for number, row in enumerate(changes.itertuples()):
            axes.axvline(row.date, color="#777", linewidth=0.8, linestyle=":")
            axes.annotate(row.label, (row.date, top * (0.98 - 0.05 * (number % 4))), fontsize=7.5, color="#444",
                          xytext=(3, 0), textcoords="offset points", va="top")
        axes.set_ylim(0, top)
        axes.set_ylabel(f"{_text(lang, 'share', t=t)} (%)")
        axes.set_title(_text(lang, "title", start=result.summary["date"].iat[0], end=result.summary["date"].iat[-1]))
        axes.xaxis.set_major_locator(mdates.YearLocator())
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="lower right", fontsize=8, frameon=False)
        figure.text(0.01, 0.01, _text(lang, "note"), fontsize=6.5, color="#666")
        figure.tight_layout(rect=(0, 0.03, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def chart_spec(result: AnalysisResult, *, lang: str = "fr", regions: Sequence[str] = (), threshold: float | None = None) -> dict:
    """The interactive chart as a Vega-Lite specification (Altair): lines with tooltips, status changes as rules."""
    import altair as alt

    t = chart_threshold(result, threshold)
    lines = series(result, lang, regions, t)
    changes = status_changes(result, lang)
    date, share = _text(lang, "date"), _text(lang, "share", t=t)
    base = alt.Chart(lines).encode(
        x=alt.X("date:T", title=date, axis=alt.Axis(format="%Y", tickCount={"interval": "year", "step": 1})),
        y=alt.Y("share:Q", title=share, axis=alt.Axis(format="%")),
        color=alt.Color("series:N", title=_text(lang, "series"), legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=600)),
        tooltip=[alt.Tooltip("date:T", title=date, format="%Y-%m-%d"), alt.Tooltip("series:N", title=_text(lang, "series")),
                 alt.Tooltip("share:Q", title=share, format=".1%")])
    layers = [base.mark_line(interpolate="step-after", point=alt.OverlayMarkDef(size=12))]
    if not changes.empty:
        rules = alt.Chart(changes).encode(x="date:T", tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), "label:N"])
        layers += [rules.mark_rule(color="#888", strokeDash=[2, 3]),
                   rules.mark_text(align="left", dx=3, dy=-4, angle=0, fontSize=10, color="#444").encode(
                       text="label:N", y=alt.value(10))]
    title = _text(lang, "title", start=result.summary["date"].iat[0], end=result.summary["date"].iat[-1])
    chart = alt.layer(*layers).properties(width="container", height=360, title=title)
    return chart.to_dict()


def chart_page(result: AnalysisResult, *, lang: str = "fr", regions: Sequence[str] = (), threshold: float | None = None) -> str:
    """A self-contained HTML page with the interactive chart (Vega, Vega-Lite and vega-embed inlined)."""
    import vl_convert

    spec = chart_spec(result, lang=lang, regions=regions, threshold=threshold)
    text = vl_convert.vegalite_to_html(spec, bundle=True)
    title = html.escape(_text(lang, "map_title"))
    style = "<style>body{margin:8px;font-family:sans-serif} #vega-chart{width:100%}</style>"  # the chart fills the frame
    note = f"<p style=\"font-size:12px;color:#555\">{html.escape(_text(lang, 'note'))}</p>"
    text = text.replace("<title>Chart</title>", f"<title>{title}</title>{style}", 1).replace("<html>", f'<html lang="{lang}">', 1)
    return text.replace("</body>", note + "</body>", 1)


class TimeSlider(MacroElement):
    """A date slider restyling the region layer (coverage) and the court markers (status) for each date."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }}, data = {{ this.data|tojson }};
    var regions = {{ this.regions }}, markers = [];
    data.courts.forEach(function (court) {
        var marker = L.circleMarker([court.lat, court.lon], {radius: 5, weight: 1.5, color: "#222", fillOpacity: 0.95});
        marker.court = court;
        marker.addTo(map);
        markers.push(marker);
    });
    function colour(share) {
        var ramp = data.ramp;
        for (var i = 0; i < ramp.length; i++) { if (share <= ramp[i][0]) { return ramp[i][1]; } }
        return ramp[ramp.length - 1][1];
    }
    var control = L.control({position: "topright"});
    control.onAdd = function () {
        var div = L.DomUtil.create("div", "geo-justice-slider");
        div.style.cssText = "background:rgba(255,255,255,0.94);padding:6px 8px;font:12px/1.4 sans-serif;border-radius:4px;"
            + "box-shadow:0 1px 4px rgba(0,0,0,0.3);width:260px";
        div.innerHTML = "<label>" + data.label + ": <b class='gj-date'></b></label><br>"
            + "<input type='range' min='0' max='" + (data.dates.length - 1) + "' value='" + data.start + "' style='width:100%'>"
            + "<div class='gj-counts'></div>";
        L.DomEvent.disableClickPropagation(div);
        return div;
    };
    control.addTo(map);
    var box = control.getContainer(), input = box.querySelector("input");
    function show(i) {
        box.querySelector(".gj-date").textContent = data.dates[i];
        box.querySelector(".gj-counts").textContent = data.counts[i];
        regions.eachLayer(function (layer) {
            var share = layer.feature.properties.shares[i];
            layer.setStyle({fillColor: share === null ? "#ccc" : colour(share), fillOpacity: 0.65, color: "#555", weight: 1});
            layer.bindTooltip(layer.feature.properties.region + ": " + (share === null ? "-" : (100 * share).toFixed(1) + "%"));
        });
        markers.forEach(function (marker) {
            var state = marker.court.states[i], seat = [marker.court.lat, marker.court.lon];
            marker.setLatLng(state[2] === null ? seat : [state[3], state[2]]);
            marker.setStyle({fillColor: data.colours[state[0]], dashArray: state[2] === null ? null : "3"});
            marker.bindTooltip(marker.court.name + ": " + data.statuses[state[0]] + (state[1] ? " (" + state[1] + ")" : ""));
        });
    }
    input.addEventListener("input", function () { show(parseInt(input.value, 10)); });
    show(data.start);
})();
{% endmacro %}""")

    def __init__(self, regions: folium.GeoJson, data: dict) -> None:
        super().__init__()
        self._name = "TimeSlider"
        self.regions, self.data = regions.get_name(), data


#: Share classes of the coverage ramp (upper bound, colour), light to dark.
SHARE_RAMP = [(0.1, "#fff5eb"), (0.2, "#fdd0a2"), (0.35, "#fd8d3c"), (0.5, "#d94801"), (1.0, "#7f2704")]


def timeline_map(engine: Engine, result: AnalysisResult, *, lang: str = "fr", threshold: float | None = None) -> folium.Map:
    """Regions coloured by actual coverage within the threshold and courts by status, with a date slider."""
    t = chart_threshold(result, threshold)
    dates = list(result.layers["timeline"]["date"])
    outlines, per_region = result.layers["region_outlines"], result.layers["regions"]
    shares = per_region.pivot(index="region", columns="date", values=f"actual_share_{t:g}").reindex(columns=dates)
    features = outlines.assign(geometry=outlines.geometry.simplify(0.01),
                               shares=[[None if pd.isna(v) else round(float(v), 4) for v in shares.loc[r]]
                                       if r in shares.index else [None] * len(dates) for r in outlines["region"]])
    west, south, east, north = outlines.total_bounds
    fmap = new_map(lang, _text(lang, "map_title"), [[south, west], [north, east]])
    layer = folium.GeoJson(json.loads(features.to_json()), name=_text(lang, "coverage", t=t))
    layer.add_to(fmap)
    courts = engine.dataset.courts
    states = {d: engine.dataset.facilities_as_of("court", d).set_index("id") for d in dict.fromkeys(dates)}
    statuses = list(STATUS_COLOURS)
    court_data = []
    for _, court in courts.iterrows():
        rows = [states[d].loc[court["id"]] for d in dates]
        court_data.append({"name": court["name"], "lon": round(court.geometry.x, 5), "lat": round(court.geometry.y, 5),
                           "states": [[statuses.index(r["status"]), r["sitting_name"] or "",
                                       None if not r["sitting_name"] else round(float(r["sitting_lon"]), 5),
                                       None if not r["sitting_name"] else round(float(r["sitting_lat"]), 5)] for r in rows]})
    table = result.layers["timeline"]
    counts = [" · ".join(f"{int(row[f'courts_{s}'])} {label(lang, s)}" for s in statuses if row[f"courts_{s}"])
              for _, row in table.iterrows()]
    data = {"dates": dates, "start": 0, "label": _text(lang, "slider"), "courts": court_data, "counts": counts,
            "colours": [STATUS_COLOURS[s] for s in statuses], "statuses": [label(lang, s) for s in statuses],
            "ramp": SHARE_RAMP}
    TimeSlider(layer, data).add_to(fmap)
    html_box(fmap, f"<b>{html.escape(_text(lang, 'map_title'))}</b><span class=\"gj-detail\"><br>"
                   f"<small>{html.escape(_text(lang, 'note'))}</small></span>", "topright", "gj-title")
    sections = [section(layer, _text(lang, "coverage", t=t), [["swatch", c, f"≤ {b:.0%}"] for b, c in SHARE_RAMP]),
                section(None, label(lang, "status"), [["swatch", STATUS_COLOURS[s], label(lang, s)] for s in statuses])]
    _finish(fmap, lang, sections, ["geo-justice", engine.dataset.name, *reference_sources(engine.dataset)])
    return fmap


def map_page(engine: Engine, result: AnalysisResult, *, lang: str = "fr", threshold: float | None = None,
             self_contained: bool = True) -> str:
    """The slider map as HTML: Leaflet inlined (a file to send) or from the service's `/static/`."""
    return page(timeline_map(engine, result, lang=lang, threshold=threshold), self_contained=self_contained)
