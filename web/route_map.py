"""A Folium map of a route plan: each team's path in its own colour, numbered stops with their schedule, dropped stops."""
from __future__ import annotations

import html

import folium

from geo_justice.routes import RoutePlan

from .maps import Attribution, ExternalBasemap

COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
ATTRIBUTION = "Paths: least-cost over the geo-justice friction surface (roads, off-road speed, incident risk), modelled"


def route_map(plan: RoutePlan) -> folium.Map:
    """The plan fitted to its places, on OpenStreetMap when reachable (it works offline without); popups in
    French and English."""
    fmap = folium.Map(tiles=None, control_scale=True)
    ExternalBasemap().add_to(fmap)
    lats, lons = [], []
    for team in plan.teams:
        colour = COLOURS[(team.team - 1) % len(COLOURS)]
        group = folium.FeatureGroup(name=f"Équipe / team {team.team} ({team.depot.name})")
        for leg in team.legs:
            points = [(lat, lon) for lon, lat in leg.geometry.coords]
            lats += [p[0] for p in points]
            lons += [p[1] for p in points]
            tip = f"{leg.origin} → {leg.destination}: {leg.minutes / 60:.1f} h, {leg.metres / 1000:.0f} km"
            folium.PolyLine(points, color=colour, weight=4, tooltip=html.escape(tip)).add_to(group)
        folium.CircleMarker((team.depot.lat, team.depot.lon), radius=9, color="#000000", weight=3, fill=True,
                            fill_color="#ffffff", fill_opacity=1.0,
                            tooltip=html.escape(f"Départ / depot: {team.depot.name}")).add_to(group)
        for order, stop in enumerate(team.stops, start=1):
            dates = ", ".join(d.date for d in team.days if d.activity == "hearing" and d.destination == stop.place.name)
            popup = (f"<b>{html.escape(stop.place.name)}</b> ({order})<br>Audiences / hearings: {dates}"
                     f"<br>Priorité / priority: {stop.priority}")
            folium.CircleMarker((stop.place.lat, stop.place.lon), radius=7, color=colour, fill=True, fill_opacity=0.9,
                                tooltip=f"{order}. {html.escape(stop.place.name)}", popup=folium.Popup(popup, max_width=300)).add_to(group)
        group.add_to(fmap)
    if plan.dropped:
        group = folium.FeatureGroup(name="Non planifiés / not planned")
        for stop, reason in plan.dropped:
            lats.append(stop.place.lat)
            lons.append(stop.place.lon)
            folium.CircleMarker((stop.place.lat, stop.place.lon), radius=7, color="#b2182b", fill=False,
                                tooltip=html.escape(f"{stop.place.name}: {reason}")).add_to(group)
        group.add_to(fmap)
    if lats:
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))])
    Attribution([ATTRIBUTION]).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap
