"""Leaflet and its plugins from the installed XStatic packages (PyPI), never from a CDN.

Folium's elements name their scripts and stylesheets by CDN URL; `localise` points them at copies the
service serves itself (`/static/...`), and `inline` copies them into the page so that one HTML file works
with no server and no network.
"""
from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING

import xstatic.pkg.jquery
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
import fastapi_offline

if TYPE_CHECKING:
    import branca.element
    import folium

PREFIX = "/static/"
#: Served folder -> installed package data.
PACKAGES = {"leaflet": Path(xstatic.pkg.leaflet.BASE_DIR), "jquery": Path(xstatic.pkg.jquery.BASE_DIR),
            "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
            "gj": Path(__file__).parent / "static",  # the maps' own script and styles
            "docs": Path(fastapi_offline.__file__).parent / "static"}  # Swagger UI and ReDoc for /docs and /redoc
#: Folium's resource names -> our copy, or None for resources this service's maps do not use (Bootstrap,
#: Awesome Markers and their fonts: the maps draw circle markers and their own legend).
LOCAL = {
    "leaflet": "leaflet/leaflet.js", "leaflet_css": "leaflet/leaflet.css",
    "jquery": "jquery/jquery.min.js",  # folium's popups parse their HTML with jQuery
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
    "gj_js": "gj/map.js", "gj_css": "gj/map.css",
    "bootstrap": None, "bootstrap_css": None, "glyphicons_css": None, "awesome_markers": None,
    "awesome_markers_font_css": None, "awesome_markers_css": None, "awesome_rotate_css": None,
}


def asset_path(name: str) -> Path:
    """The installed file served as /static/`name`; KeyError when there is none."""
    folder, _, rest = name.partition("/")
    root = PACKAGES.get(folder)
    if root is None or not rest:
        raise KeyError(name)
    path = (root / rest).resolve()
    if not path.is_file() or root.resolve() not in path.parents:
        raise KeyError(name)
    return path


def media_type(name: str) -> str:
    if name.endswith(".map"):
        return "application/json"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _local(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if name not in LOCAL:
            raise ValueError(f"no offline copy of {name} ({url}); add it to web.assets.LOCAL")
        if LOCAL[name]:
            out.append((name, PREFIX + LOCAL[name]))
    return out


def localise(fmap: folium.Map) -> folium.Map:
    """Point every element's scripts and stylesheets at the service's own copies (raises for an unknown one)."""
    stack: list[branca.element.Element] = [fmap]
    while stack:
        element = stack.pop()
        if hasattr(element, "default_js"):
            element.default_js = _local(element.default_js)
            element.default_css = _local(element.default_css)
        stack.extend(element._children.values())
    return fmap


def _data_uri(path: Path) -> str:
    return f"data:{media_type(path.name)};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _inline_css(name: str) -> str:
    path = asset_path(name)
    css = path.read_text(encoding="utf-8")
    return re.sub(r"url\((images/[^)]+)\)", lambda m: f"url({_data_uri(path.parent / m.group(1))})", css)


def inline(page: str) -> str:
    """Replace links to /static/ copies by the files' contents (images as data URIs): a self-contained page."""
    def script(match: re.Match) -> str:
        code = asset_path(match.group(1)).read_text(encoding="utf-8")
        code = re.sub(r"//# sourceMappingURL=\S+", "", code).replace("</script", "<\\/script")
        return f"<script>{code}</script>"

    page = re.sub(r'<script src="' + re.escape(PREFIX) + r'([^"]+)"></script>', script, page)
    return re.sub(r'<link rel="stylesheet" href="' + re.escape(PREFIX) + r'([^"]+)"/>',
                  lambda m: f"<style>{_inline_css(m.group(1))}</style>", page)
