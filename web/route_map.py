"""A Folium map of a route plan: each team's legs in its own colour (offset where they overlap), numbered stops
with the day of their hearings, a summary box, dropped stops with the reason; the country drawn offline."""
from __future__ import annotations

import html

import folium

from geo_justice.routes import RoutePlan, TeamPlan

from .i18n import check_lang, date_text, label, number
from .maps import (ExternalBasemap, JsRef, basemap_data, html_box, js_call, new_map, reference_sources, section,
                   short_sources)

#: Okabe-Ito colours, one per team (colour-blind safe).
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DROPPED = "#d55e00"
ATTRIBUTION = "Paths: least-cost over the geo-justice friction surface (roads, off-road speed, incident risk), modelled"
#: Pixels between a leg and the path it follows: legs there and back, and teams, stay apart.
OFFSET_PX = 3


def _days(team: TeamPlan, name: str) -> list:
    return [d for d in team.days if d.activity == "hearing" and d.destination == name]


def _day_text(lang: str, days: list) -> str:
    numbers = [d.day for d in days]
    if not numbers:
        return ""
    span = str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}–{numbers[-1]}"
    return label(lang, "day", n=span)


def _summary(plan: RoutePlan, lang: str) -> str:
    colon = " :" if lang == "fr" else ":"
    lines = [f"<b>{html.escape(label(lang, 'route_title'))}</b>"]
    for team in plan.teams:
        colour = COLOURS[(team.team - 1) % len(COLOURS)]
        lines.append(f'<span class="gj-swatch" style="background:{colour}"></span>'
                     f"<b>{html.escape(label(lang, 'team', n=team.team))}</b> ({html.escape(team.depot.name)}){colon} "
                     f"{len(team.days)} {label(lang, 'days')}, {number(lang, team.drive_minutes / 60, 1)} "
                     f"{label(lang, 'hours')}, {number(lang, team.metres / 1000)} {label(lang, 'km')}"
                     f'<span class="gj-detail"><br>{html.escape(date_text(lang, team.days[0].date))} – '
                     f"{html.escape(date_text(lang, team.end_date))}</span>")
    for stop, reason in plan.dropped:
        lines.append(f"{html.escape(label(lang, 'dropped'))}{colon} <b>{html.escape(stop.place.name)}</b> "
                     f"({label(lang, 'priority').lower()} {stop.priority}) – {html.escape(reason)}")
    return "<br>".join(lines)


def _stop_icon(colour: str, order: int, name: str, day: str) -> folium.DivIcon:
    return folium.DivIcon(html=f'<span style="background:{colour}">{order}</span>'
                               f'<b class="gj-stop-day">{html.escape(name)}<br>{html.escape(day)}</b>',
                          icon_size=(26, 26), icon_anchor=(13, 13), class_name="gj-stop")


def route_map(plan: RoutePlan, dataset=None, *, lang: str = "fr") -> folium.Map:
    """The plan fitted to its places, on the dataset's own geography when given (it works offline), on
    OpenStreetMap when reachable."""
    check_lang(lang)
    points = [(p.lat, p.lon) for t in plan.teams for p in (t.depot, *(s.place for s in t.stops))]
    points += [(s.place.lat, s.place.lon) for s, _ in plan.dropped]
    for team in plan.teams:
        for leg in team.legs:
            points += [(lat, lon) for lon, lat in leg.geometry.coords]
    lats, lons = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    fmap = new_map(lang, label(lang, "route_title"), [[min(lats), min(lons)], [max(lats), max(lons)]])
    if dataset is not None:
        js_call("basemap", basemap_data(dataset)).add_to(fmap)
    ExternalBasemap().add_to(fmap)
    sections, lines = [], []
    for team in plan.teams:
        colour = COLOURS[(team.team - 1) % len(COLOURS)]
        name = f"{label(lang, 'team', n=team.team)} ({team.depot.name})"
        group = folium.FeatureGroup(name=name)
        for leg in team.legs:
            tip = label(lang, "leg", a=leg.origin, b=leg.destination, h=number(lang, leg.minutes / 60, 1),
                        km=number(lang, leg.metres / 1000))
            line = folium.PolyLine([(lat, lon) for lon, lat in leg.geometry.coords], color=colour, weight=3.5,
                                   opacity=0.9, tooltip=html.escape(tip))
            line.add_to(group)
            lines.append({"line": JsRef(line.get_name()), "latlngs": [(lat, lon) for lon, lat in leg.geometry.coords],
                          "offset": OFFSET_PX * team.team})
        folium.Marker((team.depot.lat, team.depot.lon), tooltip=html.escape(f"{label(lang, 'depot')}: {team.depot.name}"),
                      icon=folium.DivIcon(html=f'<span style="background:#222;border-radius:3px">D</span>'
                                               f'<b class="gj-stop-day">{html.escape(team.depot.name)}</b>',
                                          icon_size=(26, 26), icon_anchor=(13, 13), class_name="gj-stop")).add_to(group)
        for order, stop in enumerate(team.stops, start=1):
            days = _days(team, stop.place.name)
            dates = ", ".join(date_text(lang, d.date) for d in days)
            popup = (f"<b>{order}. {html.escape(stop.place.name)}</b><br>{html.escape(_day_text(lang, days))}: "
                     f"{html.escape(dates)}<br>{label(lang, 'priority')}: {stop.priority}")
            folium.Marker((stop.place.lat, stop.place.lon), icon=_stop_icon(colour, order, stop.place.name, _day_text(lang, days)),
                          tooltip=html.escape(f"{order}. {stop.place.name}"),
                          popup=folium.Popup(popup, max_width=300)).add_to(group)
        group.add_to(fmap)
        sections.append(section(group, name, [["line", colour, "", label(lang, "stop") + " 1, 2, …"]]))
    if plan.dropped:
        group = folium.FeatureGroup(name=label(lang, "dropped"))
        for stop, reason in plan.dropped:
            folium.CircleMarker((stop.place.lat, stop.place.lon), radius=8, color=DROPPED, weight=3, fill=False,
                                tooltip=html.escape(f"{stop.place.name}: {reason}")).add_to(group)
        group.add_to(fmap)
        sections.append(section(group, label(lang, "dropped"), [["symbol", "court", DROPPED, "closed", label(lang, "dropped")]]))
    js_call("offsetLines", lines).add_to(fmap)
    html_box(fmap, _summary(plan, lang), "topright", "gj-title")
    js_call("legend", sections, label(lang, "legend")).add_to(fmap)
    sources = [ATTRIBUTION, *(reference_sources(dataset) if dataset is not None else [])]
    js_call("sources", "geo-justice" if dataset is None else short_sources(lang), label(lang, "sources"),
            label(lang, "sources_title"), sources).add_to(fmap)
    folium.LayerControl(collapsed=True, position="topleft").add_to(fmap)
    js_call("responsive").add_to(fmap)
    return fmap

