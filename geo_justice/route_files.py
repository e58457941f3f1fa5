"""A RoutePlan as GeoJSON (RFC 7946), GPX 1.1 and a CSV itinerary."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import shapely

from .routes import RoutePlan, TeamPlan

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def _stop_features(team: TeamPlan) -> list[dict]:
    """The depot and each stop as Points, with the team, order, arrival date and hearing dates."""
    features = [{"type": "Feature", "geometry": _point(team.depot.lon, team.depot.lat),
                 "properties": {"kind": "depot", "team": team.team, "order": 0, "name": team.depot.name,
                                "depart": team.days[0].date, "return": team.end_date}}]
    for order, stop in enumerate(team.stops, start=1):
        name = stop.place.name
        hearings = [d.date for d in team.days if d.activity == "hearing" and d.destination == name]
        drives = [d.date for d in team.days if d.activity == "drive" and d.destination == name]
        arrive = drives[-1] if drives else hearings[0]  # no driving day when the stop shares the previous one's cell
        features.append({"type": "Feature", "geometry": _point(stop.place.lon, stop.place.lat),
                         "properties": {"kind": "stop", "team": team.team, "order": order, "name": name,
                                        "priority": stop.priority, "hearing_days": stop.hearing_days,
                                        "arrive": arrive, "hearing_dates": hearings}})
    return features


def _leg_features(team: TeamPlan) -> list[dict]:
    """Each leg as a LineString with its drive time, distance, risk and dates."""
    features = []
    for number, leg in enumerate(team.legs, start=1):
        dates = [d.date for d in team.days if d.activity == "drive" and d.origin == leg.origin and d.destination == leg.destination]
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(leg.geometry),
                         "properties": {"kind": "leg", "team": team.team, "leg": number, "origin": leg.origin,
                                        "destination": leg.destination, "drive_hours": round(leg.minutes / 60, 2),
                                        "distance_km": round(leg.metres / 1000, 2),
                                        "risk_exposure": round(leg.risk_exposure, 2), "max_risk": round(leg.max_risk, 2),
                                        "depart": dates[0] if dates else None, "arrive": dates[-1] if dates else None}})
    return features


def plan_geojson(plan: RoutePlan) -> dict:
    """FeatureCollection: legs (LineStrings), depots and stops (Points), dropped stops (Points with the reason);
    the plan's summary without schedules as the foreign member `plan`."""
    features = []
    for team in plan.teams:
        features += _leg_features(team) + _stop_features(team)
    for stop, reason in plan.dropped:
        features.append({"type": "Feature", "geometry": _point(stop.place.lon, stop.place.lat),
                         "properties": {"kind": "dropped", "name": stop.place.name, "priority": stop.priority,
                                        "hearing_days": stop.hearing_days, "reason": reason}})
    summary = plan.summary()
    for team in summary["teams"]:
        team.pop("schedule")
    return {"type": "FeatureCollection", "features": features, "plan": summary}


def plan_gpx(plan: RoutePlan) -> str:
    """GPX 1.1: every depot and stop as a waypoint, per team a route (the stops in order) and a track (the paths)."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "geo-justice"})

    def add(parent: ET.Element, tag: str, lon: float, lat: float, name: str | None = None, desc: str | None = None) -> None:
        point = ET.SubElement(parent, f"{{{GPX_NS}}}{tag}", {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})
        for key, text in (("name", name), ("desc", desc)):
            if text is not None:
                ET.SubElement(point, f"{{{GPX_NS}}}{key}").text = text

    for team in plan.teams:
        for stop in team.stops:
            add(root, "wpt", stop.place.lon, stop.place.lat, stop.place.name, f"team {team.team}: {stop.hearing_days} hearing day(s)")
    for team in plan.teams:
        route = ET.SubElement(root, f"{{{GPX_NS}}}rte")
        ET.SubElement(route, f"{{{GPX_NS}}}name").text = f"team {team.team} from {team.depot.name}"
        for place in [team.depot, *(s.place for s in team.stops), team.depot]:
            add(route, "rtept", place.lon, place.lat, place.name)
    for team in plan.teams:
        track = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(track, f"{{{GPX_NS}}}name").text = f"team {team.team} from {team.depot.name}"
        for leg in team.legs:
            segment = ET.SubElement(track, f"{{{GPX_NS}}}trkseg")
            for lon, lat in leg.geometry.coords:
                add(segment, "trkpt", lon, lat)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


CSV_COLUMNS = ["team", "day", "date", "activity", "origin", "destination", "drive_hours", "note"]


def plan_csv(plan: RoutePlan) -> str:
    """The itinerary: one row per team and day; then one row per dropped stop with the reason."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for team in plan.teams:
        for d in team.days:
            writer.writerow([team.team, d.day, d.date, d.activity, d.origin, d.destination, round(d.drive_minutes / 60, 2), d.note])
    for stop, reason in plan.dropped:
        writer.writerow(["", "", "", "dropped", "", stop.place.name, "", reason])
    return out.getvalue()


def plan_text(plan: RoutePlan) -> str:
    """The plan for a terminal: per team its circuit, totals and day-by-day schedule; dropped stops; notes."""
    lines = []
    for team in plan.teams:
        circuit = " -> ".join([team.depot.name, *(s.place.name for s in team.stops), team.depot.name])
        lines.append(f"Team {team.team}: {circuit}")
        lines.append(f"  {len(team.days)} days ({team.days[0].date} to {team.end_date}), {team.drive_minutes / 60:.1f} h "
                     f"driving, {team.metres / 1000:,.0f} km, risk exposure {team.risk_exposure:,.0f}")
        for d in team.days:
            hours = f"{d.drive_minutes / 60:4.1f} h" if d.activity == "drive" else "      "
            route = f"{d.origin} -> {d.destination}" if d.activity == "drive" else d.destination
            lines.append(f"  day {d.day:>2} {d.date} {d.activity:<7} {hours}  {route}: {d.note}")
    for stop, reason in plan.dropped:
        lines.append(f"Not planned: {stop.place.name} (priority {stop.priority}): {reason}")
    lines += [f"Note: {note}" for note in plan.notes]
    return "\n".join(lines)
