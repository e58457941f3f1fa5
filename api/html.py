"""The HTML encoding of OGC API - Features (/conf/html): the same resources as small pages a planner can browse,
chosen by `f=html` or by an Accept header that prefers text/html (browsers); clients asking for JSON (QGIS,
GDAL, OWSLib) never get them. Maps use the Leaflet copy the service serves itself: no network needed."""
from __future__ import annotations

import json
from html import escape

from fastapi.responses import HTMLResponse
from starlette.requests import Request

from web.assets import PREFIX

HTML = "text/html"
JSON_TYPES = ("application/json", "application/geo+json")


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type` (its most specific matching range; 0 when none matches)."""
    best, quality = -1, 0.0
    kind = media_type.split("/")[0]
    for entry in accept.split(","):
        name, *params = [p.strip() for p in entry.split(";")]
        name = name.lower()
        rank = 2 if name == media_type else 1 if name == f"{kind}/*" else 0 if name == "*/*" else -1
        if rank <= best:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best, quality = rank, q
    return quality


def wants_html(request: Request, f: str | None) -> bool:
    """HTML when `f=html`, or without `f` when the Accept header prefers text/html to every JSON type."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return bool(accept) and _quality(accept, HTML) > max(_quality(accept, t) for t in JSON_TYPES)


def _links(links: list[dict]) -> str:
    items = "".join(f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a> '
                    f'<small>({escape(link["rel"])}, {escape(link["type"])})</small></li>' for link in links)
    return f"<ul>{items}</ul>"


def page(title: str, body: str, *, map_data: bytes | None = None) -> HTMLResponse:
    """An HTML 5 page; with `map_data` (a GeoJSON FeatureCollection in CRS84), a small map of it above the body."""
    head = f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
    style = ("<style>body{font:14px/1.4 sans-serif;margin:1em 2em;color:#222}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}#map{height:360px;margin:1em 0}</style>")
    script = ""
    if map_data is not None:
        head += f'<link rel="stylesheet" href="{PREFIX}leaflet/leaflet.css"><script src="{PREFIX}leaflet/leaflet.js"></script>'
        data = map_data.decode().replace("</", "<\\/")
        script = ('<div id="map"></div><script>var map = L.map("map");'
                  f"var layer = L.geoJSON({data}, {{pointToLayer: function (f, ll) {{ return L.circleMarker(ll, {{radius: 5}}); }},"
                  "onEachFeature: function (f, l) { l.bindTooltip(String(f.properties.name || f.id)); }}).addTo(map);"
                  "var b = layer.getBounds(); if (b.isValid()) { map.fitBounds(b, {maxZoom: 9}); } else { map.setView([0, 0], 1); }"
                  "</script>")
    return HTMLResponse(f"<!DOCTYPE html><html lang=\"en\"><head>{head}{style}</head><body><h1>{escape(title)}</h1>"
                        f"{script}{body}</body></html>")


def document(title: str, data: dict) -> HTMLResponse:
    """A JSON resource (landing page, conformance, collections, collection) as a page: its fields and links."""
    rows = []
    for key, value in data.items():
        if key == "links":
            continue
        if key == "collections":
            cells = "".join(f'<li><a href="{escape(_href(c, "self"))}?f=html">{escape(c["title"])}</a>: {escape(c["description"])} '
                            f'(<a href="{escape(_href(c, "items"))}?f=html">items</a>)</li>' for c in value)
            rows.append(f"<tr><th>collections</th><td><ul>{cells}</ul></td></tr>")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            rows.append(f"<tr><th>{escape(key)}</th><td><ul>{''.join(f'<li>{escape(v)}</li>' for v in value)}</ul></td></tr>")
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append(f"<tr><th>{escape(key)}</th><td>{escape(shown)}</td></tr>")
    return page(title, f"<table>{''.join(rows)}</table><h2>Links</h2>{_links(data.get('links', []))}")


def _href(data: dict, rel: str) -> str:
    return next(link["href"] for link in data["links"] if link["rel"] == rel)


def features_page(title: str, collection: dict, links: list[dict], *, matched: int | None = None) -> HTMLResponse:
    """A FeatureCollection (or one Feature) as a map and a table of its properties, with paging links."""
    features = collection["features"] if collection["type"] == "FeatureCollection" else [collection]
    columns = list(dict.fromkeys(k for f in features for k in (f.get("properties") or {})))
    head = "".join(f"<th>{escape(c)}</th>" for c in ["id", *columns])
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in [f.get("id"), *((f.get("properties") or {}).get(c) for c in columns)])
                   + "</tr>" for f in features)
    paging = " ".join(f'<a href="{escape(link["href"])}">{escape(link["rel"])}</a>' for link in links
                      if link["rel"] in ("prev", "next", "collection") and link["type"] == HTML)
    count = f"<p>{len(features)} of {matched} features</p>" if matched is not None else ""
    data = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
    return page(title, f"{count}<p>{paging}</p><table><tr>{head}</tr>{body}</table>", map_data=data)


def _cell(value) -> str:
    return "" if value is None else str(value)
