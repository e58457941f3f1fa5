"""Colour classes for the raster layers: each cell gets a class index, each class a colour.

Class 255 is transparent everywhere (outside the data). The classes, not the colours, are what tiles
and legends share, so a pixel of a tile can be traced back to the class of its cell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TRANSPARENT = 255
#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies); maps add a shape per status too.
STATUS_COLOURS = {"operational": "#009e73", "partial": "#e69f00", "closed": "#d55e00", "unknown": "#999999"}
PRISON_COLOUR = "#0072b2"
INCIDENT_COLOUR = "#404040"


@dataclass(frozen=True)
class Ramp:
    """Classes bounded above by `breaks` (value <= break), then one class beyond the last break, then `extra`.

    `colours` has len(breaks) + 1 entries (#rrggbb or #rrggbbaa); `extra` colours a class for non-finite
    values (e.g. unreachable); a colour of None is transparent.
    """

    breaks: tuple[float, ...]
    colours: tuple[str | None, ...]
    extra: str | None = None

    def classify(self, values: np.ndarray) -> np.ndarray:
        """uint8 class per value: finite values by break, non-finite the `extra` class (or transparent)."""
        finite = np.isfinite(values)
        classes = np.searchsorted(np.asarray(self.breaks, dtype=float), np.where(finite, values, 0.0), side="left")
        out = classes.astype(np.uint8)
        out[~finite] = len(self.colours) if self.extra else TRANSPARENT
        for index, colour in enumerate(self.colours):
            if colour is None:
                out[out == index] = TRANSPARENT
        return out

    @property
    def class_colours(self) -> list[str | None]:
        return list(self.colours) + ([self.extra] if self.extra else [])

    def palette(self) -> np.ndarray:
        """(256, 4) uint8 RGBA per class index; unused indices transparent."""
        table = np.zeros((256, 4), dtype=np.uint8)
        for index, colour in enumerate(self.class_colours):
            if colour is not None:
                table[index] = rgba(colour)
        return table

    def legend(self) -> list[tuple[float | None, float | None, str]]:
        """(lower, upper, #rrggbb) per visible class; (None, None, colour) for the `extra` class."""
        bounds = [0.0, *self.breaks, None]
        rows = [(bounds[i], bounds[i + 1], c[:7]) for i, c in enumerate(self.colours) if c is not None]
        return rows + ([(None, None, self.extra[:7])] if self.extra else [])


def rgba(colour: str) -> tuple[int, int, int, int]:
    """'#rrggbb' (opaque) or '#rrggbbaa' as an RGBA tuple."""
    text = colour.lstrip("#")
    alpha = int(text[6:8], 16) if len(text) == 8 else 255
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), alpha


#: Minutes to the nearest counting facility: viridis (colour-blind safe, light when close, dark when far).
TRAVELTIME = Ramp(
    breaks=(15, 30, 60, 90, 120, 180, 240, 360, 480),
    colours=("#fde725d0", "#b5de2bd0", "#6ece58d0", "#35b779d0", "#1f9e89d0", "#26828ed0", "#31688ed0",
             "#3e4989d0", "#482878d0", "#440154d0"),
    extra="#8c8c8cd0",
)
#: Persons per km² (the service's own basemap): land in light beige, settled areas darker.
BASEMAP = Ramp(breaks=(1, 5, 20, 100, 500),
               colours=("#f2efe9", "#e4ddd0", "#d3c8b4", "#bfae92", "#a08a6a", "#7a6548"))
#: Weighted incidents per 1,000 km²: transparent when low, then orange to dark red.
RISK = Ramp(breaks=(0.5, 2, 5, 10, 20, 50),
            colours=(None, "#fee8c8b0", "#fdbb84c0", "#fc8d59d0", "#e34a33e0", "#b30000e8", "#67000df0"))


def coverage_ramp(threshold: float) -> Ramp:
    """Within `threshold` minutes (blue), beyond it (orange), unreachable (grey): colour-blind safe."""
    return Ramp(breaks=(threshold,), colours=("#0072b2b0", "#e69f00b0"), extra="#8c8c8cd0")
