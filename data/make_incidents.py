"""Write incidents_synthetic.csv: a SYNTHETIC demo file in ACLED's export schema (no real ACLED data).

    python data/make_incidents.py

ACLED's terms forbid redistributing its events, so the embedded dataset ships this seeded, reproducible
stand-in. Every row says it is synthetic (source, notes, tags). Events cluster where public reporting
puts the violence (central Mali around Mopti and Ségou, Gao, Ménaka, Tombouctou) with yearly volumes
shaped like the conflict's course (a 2012-13 peak, a lull, a rise from 2017); counts, places and
fatalities are invented. Loaders treat the file exactly like a real ACLED export.
"""
from __future__ import annotations

import csv
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20231117
COLUMNS = ["event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
           "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
           "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
           "source", "source_scale", "notes", "fatalities", "tags", "timestamp"]
#: Hotspot towns: (name, admin1, lon, lat, relative weight, jitter sigma in km).
HOTSPOTS = [
    ("Mopti", "Mopti", -4.183, 14.484, 6, 35), ("Bandiagara", "Mopti", -3.610, 14.350, 8, 30),
    ("Bankass", "Mopti", -3.516, 14.078, 7, 30), ("Koro", "Mopti", -3.075, 14.064, 7, 30),
    ("Djenné", "Mopti", -4.553, 13.906, 4, 30), ("Ténenkou", "Mopti", -4.917, 14.457, 5, 35),
    ("Douentza", "Mopti", -2.952, 15.006, 6, 40), ("Niono", "Ségou", -5.987, 14.251, 5, 35),
    ("Macina", "Ségou", -5.358, 13.964, 4, 30), ("Gao", "Gao", -0.045, 16.272, 6, 40),
    ("Ménaka", "Gao", 2.396, 15.920, 6, 45), ("Ansongo", "Gao", 0.502, 15.660, 4, 35),
    ("Tombouctou", "Tombouctou", -3.007, 16.773, 5, 40), ("Kidal", "Kidal", 1.409, 18.443, 2, 40),
    ("Bamako", "Bamako", -7.975, 12.609, 1, 20), ("Sikasso", "Sikasso", -5.667, 11.318, 1, 40),
    ("Kayes", "Kayes", -11.444, 14.448, 1, 50),
]
#: Events per year: the shape of the conflict's course, invented magnitudes.
PER_YEAR = {2012: 420, 2013: 380, 2014: 150, 2015: 180, 2016: 200, 2017: 300, 2018: 450, 2019: 560,
            2020: 600, 2021: 620, 2022: 700, 2023: 560}
EVENTS = [  # disorder type, event type, sub-event type, weight, (inter1, inter2)
    ("Political violence", "Battles", "Armed clash", 30, (3, 1)),
    ("Political violence", "Violence against civilians", "Attack", 28, (2, 7)),
    ("Political violence", "Explosions/Remote violence", "Remote explosive/landmine/IED", 14, (2, 1)),
    ("Political violence", "Explosions/Remote violence", "Air/drone strike", 6, (1, 2)),
    ("Political violence", "Violence against civilians", "Abduction/forced disappearance", 8, (2, 7)),
    ("Demonstrations", "Protests", "Peaceful protest", 6, (6, 0)),
    ("Political violence", "Riots", "Mob violence", 3, (5, 7)),
    ("Strategic developments", "Strategic developments", "Looting/property destruction", 5, (2, 0)),
]
ACTORS = {1: "Synthetic state forces", 2: "Synthetic armed group A", 3: "Synthetic communal militia B",
          5: "Synthetic rioters", 6: "Synthetic protesters", 7: "Synthetic civilians"}
MALI = (-12.2, 10.2, 4.2, 24.9)


def main() -> None:
    rng = np.random.default_rng(SEED)
    weights = np.array([h[4] for h in HOTSPOTS], dtype=float)
    kinds = np.array([e[3] for e in EVENTS], dtype=float)
    rows = []
    for year, count in PER_YEAR.items():
        days = np.sort(rng.integers(0, (date(year, 12, 31) - date(year, 1, 1)).days + 1, size=count))
        spots = rng.choice(len(HOTSPOTS), size=count, p=weights / weights.sum())
        events = rng.choice(len(EVENTS), size=count, p=kinds / kinds.sum())
        for day, spot, event in zip(days, spots, events):
            name, admin1, lon, lat, _, sigma_km = HOTSPOTS[spot]
            disorder, event_type, sub_event, _, (inter1, inter2) = EVENTS[event]
            dlat, dlon = rng.normal(0, sigma_km / 111.32, size=2)
            lat_e = float(np.clip(lat + dlat, MALI[1], MALI[3]))
            lon_e = float(np.clip(lon + dlon / np.cos(np.radians(lat)), MALI[0], MALI[2]))
            violent = disorder == "Political violence"
            fatalities = int(rng.negative_binomial(0.6, 0.25)) if violent else 0
            when = date.fromordinal(date(year, 1, 1).toordinal() + int(day))
            rows.append({
                "event_id_cnty": f"MLISYN{len(rows) + 1:06d}", "event_date": when.isoformat(), "year": year,
                "time_precision": int(rng.integers(1, 3)), "disorder_type": disorder, "event_type": event_type,
                "sub_event_type": sub_event, "actor1": ACTORS[inter1], "assoc_actor_1": "", "inter1": inter1,
                "actor2": ACTORS.get(inter2, ""), "assoc_actor_2": "", "inter2": inter2,
                "interaction": int(f"{min(inter1, inter2)}{max(inter1, inter2)}") if inter2 else inter1 * 10,
                "civilian_targeting": "Civilian targeting" if inter2 == 7 else "", "iso": 466,
                "region": "Western Africa", "country": "Mali", "admin1": admin1, "admin2": "", "admin3": "",
                "location": f"near {name} (synthetic)", "latitude": round(lat_e, 4), "longitude": round(lon_e, 4),
                "geo_precision": int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])),
                "source": "SYNTHETIC demo data, not ACLED", "source_scale": "Other",
                "notes": f"SYNTHETIC: invented {event_type.lower()} near {name} for demonstration; not a real event.",
                "fatalities": fatalities, "tags": "synthetic",
                "timestamp": int(datetime(year, when.month, when.day, tzinfo=timezone.utc).timestamp()),
            })
    with open(HERE / "incidents_synthetic.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
