"""The justice chain: from each court to the nearest working prison with room, and what it costs detainees.

A prison has room when capacity - detainees >= `min_room`. A prison missing either figure has unknown
room: counted as having room (`unknown_room="count"`, flagged in the tables) or left out ("skip"). The
court-to-prison travel-time matrix is AccessMod's referral analysis on the engine's friction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

UNKNOWN_ROOM = ("count", "skip")


def prison_occupancy(prisons: pd.DataFrame) -> pd.DataFrame:
    """Per prison: capacity, detainees, room (capacity - detainees), occupancy (detainees / capacity), overcrowded."""
    out = prisons[["id", "name", "region", "status"]].reset_index(drop=True).copy()
    capacity = pd.to_numeric(prisons["capacity"], errors="coerce").to_numpy(float)
    detainees = pd.to_numeric(prisons["detainees"], errors="coerce").to_numpy(float)
    out["capacity"], out["detainees"] = capacity, detainees
    out["room"] = capacity - detainees
    with np.errstate(invalid="ignore", divide="ignore"):
        out["occupancy"] = np.where(capacity > 0, detainees / capacity, np.nan)
    out["overcrowded"] = out["occupancy"] > 1
    out["room_known"] = ~np.isnan(out["room"])
    out["figures_source"] = prisons["figures_source"].to_numpy() if "figures_source" in prisons else ""
    return out


def with_room(occupancy: pd.DataFrame, *, min_room: float = 1.0, unknown_room: str = "count") -> np.ndarray:
    """Which prisons of `occupancy` can take a detainee."""
    if unknown_room not in UNKNOWN_ROOM:
        raise ValueError(f"unknown_room must be one of {', '.join(UNKNOWN_ROOM)}, not {unknown_room!r}")
    known = occupancy["room_known"].to_numpy()
    return np.where(known, occupancy["room"].fillna(0).to_numpy() >= min_room, unknown_room == "count")


def justice_chain(courts: pd.DataFrame, prisons: pd.DataFrame, matrix: np.ndarray, room: np.ndarray) -> pd.DataFrame:
    """Per court (rows of `matrix`): the nearest working prison (columns of `matrix`, minutes), and the nearest
    one with room, with the nearer prisons passed over for want of room. inf minutes: none can be reached."""
    out = courts[["id", "name", "tier", "region"]].reset_index(drop=True).copy()
    names = prisons["name"].to_numpy()
    matrix = np.asarray(matrix, dtype=np.float64).reshape(len(courts), len(prisons))
    full = np.where(room[None, :], matrix, np.inf)
    nearest = np.argmin(matrix, axis=1) if len(prisons) else np.zeros(len(courts), dtype=int)
    nearest_room = np.argmin(full, axis=1) if len(prisons) else np.zeros(len(courts), dtype=int)
    rows = np.arange(len(courts))
    to_any = matrix[rows, nearest] if len(prisons) else np.full(len(courts), np.inf)
    to_room = full[rows, nearest_room] if len(prisons) else np.full(len(courts), np.inf)
    out["nearest_working_prison"] = np.where(np.isfinite(to_any), names[nearest] if len(prisons) else "", "")
    out["minutes_to_working_prison"] = to_any
    out["nearest_prison_with_room"] = np.where(np.isfinite(to_room), names[nearest_room] if len(prisons) else "", "")
    out["minutes_to_prison_with_room"] = to_room
    out["passed_over"] = [" / ".join(names[(matrix[i] < to_room[i]) & ~room]) for i in rows]
    return out


def transfer_burden(minutes: np.ndarray, population: np.ndarray, regions: np.ndarray, names: list[str],
                    detainees_per_100k: float) -> pd.DataFrame:
    """Per region: expected detainees (population x rate) and their detainee-minutes to the nearest prison with
    room, where `minutes` is, per cell, the chain minutes of the court serving it (inf: no prison reached)."""
    if detainees_per_100k < 0:
        raise ValueError(f"detainees_per_100k must not be negative, not {detainees_per_100k}")
    detainees = population * detainees_per_100k / 1e5
    reached = np.isfinite(minutes)
    inside = regions >= 0
    def per_region(values: np.ndarray) -> np.ndarray:
        return np.bincount(regions[inside], values[inside], minlength=len(names))
    expected = per_region(detainees)
    cut_off = per_region(np.where(reached, 0.0, detainees))
    burden = per_region(np.where(reached, detainees * np.where(reached, minutes, 0.0), 0.0))
    table = pd.DataFrame({"region": names, "expected_detainees": expected, "detainees_unreached": cut_off,
                          "detainee_minutes": burden})
    with np.errstate(invalid="ignore", divide="ignore"):
        table["mean_minutes"] = np.where(expected - cut_off > 0, burden / (expected - cut_off), np.nan)
    return table
