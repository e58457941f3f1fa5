"""CQL2 filters over a layer's rows: a boolean mask from pygeofilter's syntax tree, and the layer's queryables.

    >>> from geo_justice.cql2 import parse
    >>> keep = mask(courts, parse("tier = 'appeal' AND S_WITHIN(geometry, POLYGON((-5 13, 0 13, 0 17, -5 17, -5 13)))"))

Properties are the layer's columns as served (`geometry` is the feature's geometry, in CRS84 lon/lat).
Comparisons follow CQL2: strings are case- and accent-sensitive unless wrapped in CASEI / ACCENTI, LIKE
takes `%` and `_`, a missing value matches nothing (use IS NULL). Dates are instants of one day: a
TIMESTAMP is taken as its UTC day, and temporal operators compare days (an incident's `date`, a facility's
`status_as_of` or `sitting_since`).
"""
from __future__ import annotations

import operator
import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.util import like_pattern_to_re

from layers.vocabulary import STATUSES


class FilterError(ValueError):
    """A filter that cannot be read or applied; the message names the position or property and the problem."""


GEOMETRY = "geometry"
#: Fields whose values are a vocabulary: their queryables list the values (declared ones, else those in the layer).
ENUMERATED = ("status", "tier", "kind", "region", "cercle", "zone", "event_type", "sub_event_type", "source_dataset")
COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
SPATIAL = {"INTERSECTS": shapely.intersects, "DISJOINT": shapely.disjoint, "CONTAINS": shapely.contains,
           "WITHIN": shapely.within, "TOUCHES": shapely.touches, "CROSSES": shapely.crosses,
           "OVERLAPS": shapely.overlaps, "EQUALS": shapely.equals}
#: CQL2 temporal operators on (a.start, a.end, b.start, b.end), instants being intervals of one day.
RELATIONS = {
    ast.TimeAfter: lambda a0, a1, b0, b1: a0 > b1, ast.TimeBefore: lambda a0, a1, b0, b1: a1 < b0,
    ast.TimeContains: lambda a0, a1, b0, b1: (a0 < b0) & (a1 > b1),
    ast.TimeDuring: lambda a0, a1, b0, b1: (a0 > b0) & (a1 < b1),
    ast.TimeDisjoint: lambda a0, a1, b0, b1: (a1 < b0) | (a0 > b1),
    ast.TimeEquals: lambda a0, a1, b0, b1: (a0 == b0) & (a1 == b1),
    ast.TimeEndedBy: lambda a0, a1, b0, b1: (a0 < b0) & (a1 == b1), ast.TimeEnds: lambda a0, a1, b0, b1: (a0 > b0) & (a1 == b1),
    ast.TimeMeets: lambda a0, a1, b0, b1: a1 == b0, ast.TimeMetBy: lambda a0, a1, b0, b1: a0 == b1,
    ast.TimeOverlappedBy: lambda a0, a1, b0, b1: (a0 > b0) & (a0 < b1) & (a1 > b1),
    ast.TimeOverlaps: lambda a0, a1, b0, b1: (a0 < b0) & (a1 > b0) & (a1 < b1),
    ast.TimeBegunBy: lambda a0, a1, b0, b1: (a0 == b0) & (a1 > b1), ast.TimeBegins: lambda a0, a1, b0, b1: (a0 == b0) & (a1 < b1),
}
FIRST, LAST = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")  # open interval ends: the first and last whole days pandas holds


def mask(frame: pd.DataFrame, node: ast.Node) -> np.ndarray:
    """Which rows of `frame` the filter keeps; FilterError names an unknown property or a value of the wrong type."""
    try:
        result = _Mask(frame).evaluate(node)
    except TypeError as exc:  # e.g. a text property compared with a date property
        raise FilterError(f"filter: values of different types compared ({exc})") from None
    except RecursionError:
        raise FilterError("filter: nested too deeply") from None
    if isinstance(result, (bool, np.bool_)):
        return np.full(len(frame), bool(result))
    if not isinstance(result, np.ndarray) or result.dtype != bool:
        raise FilterError("filter: the expression is not a condition (it gives values, not true or false)")
    return result


def queryables(frame: pd.DataFrame, tiers: list[str]) -> dict[str, dict]:
    """JSON Schema of every property a filter may name in `frame`: types from the columns, enums from the vocabulary
    (the dataset's `tiers`, the contract's statuses) or, for other enumerated fields, the values the layer holds."""
    declared = {"tier": list(tiers), "status": list(STATUSES)}
    out: dict[str, dict] = {}
    for name in frame.columns:
        column = frame[name]
        if name == GEOMETRY:
            kinds = sorted(set(frame.geometry.geom_type.dropna()))
            out[name] = {"format": "geometry-" + (kinds[0].lower() if len(kinds) == 1 else "any"), "x-ogc-role": "primary-geometry"}
        elif pd.api.types.is_datetime64_any_dtype(column):
            out[name] = {"type": "string", "format": "date"}
        elif pd.api.types.is_bool_dtype(column):
            out[name] = {"type": "boolean"}
        elif pd.api.types.is_integer_dtype(column):
            out[name] = {"type": "integer"}
        elif pd.api.types.is_numeric_dtype(column):
            out[name] = {"type": "number"}
        else:
            out[name] = {"type": "string"}
            if name in declared:
                out[name]["enum"] = declared[name]
            elif name in ENUMERATED:
                out[name]["enum"] = sorted({str(v) for v in column.dropna()})
        if name == "id":
            out[name]["x-ogc-role"] = "id"
    return out


class _Mask(Evaluator):
    """pygeofilter's syntax tree evaluated to numpy masks (conditions), pandas Series (properties) or scalars."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame

    def adopt(self, node, *sub_args):
        """Operators of the classes not declared (arrays, RELATE, distances...) are refused by name."""
        raise FilterError(f"filter: {type(node).__name__} is not supported here; see /conformance for the operator classes served")

    @handle(ast.Not)
    def not_(self, node, sub):
        return ~sub

    @handle(ast.And, ast.Or)
    def combination(self, node, lhs, rhs):
        return (lhs & rhs) if isinstance(node, ast.And) else (lhs | rhs)

    @handle(ast.Include)
    def include(self, node):
        return np.full(len(self.frame), not node.not_)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        lhs, rhs = _aligned(lhs, rhs)
        return _truth(COMPARE[node.op.value](lhs, rhs), len(self.frame))

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        lhs, low = _aligned(lhs, low)
        lhs, high = _aligned(lhs, high)
        inside = _truth(lhs >= low, len(self.frame)) & _truth(lhs <= high, len(self.frame))
        return ~inside if node.not_ else inside

    @handle(ast.Like)
    def like(self, node, lhs):
        if not isinstance(lhs, pd.Series) or not _is_text(lhs):
            raise FilterError(f"filter: LIKE needs a text property, not {_describe(lhs)}")
        if not isinstance(node.pattern, str):
            raise FilterError(f"filter: LIKE needs a quoted pattern, not {node.pattern!r}")
        pattern = like_pattern_to_re(node.pattern, node.nocase, "%", "_", "\\")
        found = _truth(lhs.str.fullmatch(pattern), len(self.frame))
        return ~found if node.not_ else found

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        if not isinstance(lhs, pd.Series):
            raise FilterError(f"filter: IN needs a property on its left, not {_describe(lhs)}")
        pairs = [_aligned(lhs, option) for option in options]
        found = (pairs[0][0] if pairs else lhs).isin([value for _, value in pairs]).to_numpy(dtype=bool)
        return ~found if node.not_ else found

    @handle(ast.IsNull)
    def null(self, node, lhs):
        missing = lhs.isna().to_numpy(dtype=bool)
        return ~missing if node.not_ else missing

    @handle(ast.TemporalPredicate, subclasses=True)
    def temporal(self, node, lhs, rhs):
        a0, a1 = _span(lhs)
        b0, b1 = _span(rhs)
        known = np.ones(len(self.frame), dtype=bool)
        for end in (a0, a1, b0, b1):
            if isinstance(end, pd.Series):
                known &= end.notna().to_numpy(dtype=bool)
        if type(node) not in RELATIONS:
            return self.adopt(node)
        return _truth(RELATIONS[type(node)](a0, a1, b0, b1), len(self.frame)) & known

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        return np.asarray(SPATIAL[node.op.name](_geometries(lhs), _geometries(rhs)), dtype=bool)

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        if node.crs not in (None, "http://www.opengis.net/def/crs/OGC/1.3/CRS84"):
            raise FilterError(f"filter: BBOX in {node.crs!r}; only CRS84 (lon/lat) is supported")
        return np.asarray(shapely.intersects(_geometries(lhs), shapely.box(node.minx, node.miny, node.maxx, node.maxy)), dtype=bool)

    @handle(ast.Attribute)
    def attribute(self, node):
        if node.name not in self.frame.columns:
            names = ", ".join(sorted(self.frame.columns))
            raise FilterError(f"filter: unknown property {node.name!r}; queryables of this collection: {names}")
        return self.frame[node.name]

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node, lhs, rhs):
        for side in (lhs, rhs):
            if not (_is_number(side) or isinstance(side, pd.Series) and pd.api.types.is_numeric_dtype(side)):
                raise FilterError(f"filter: arithmetic on {_describe(side)}; it takes numbers")
        return {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}[node.op.value](lhs, rhs)

    @handle(ast.Function)
    def function(self, node, *arguments):
        name = node.name.lower()
        if name not in ("lower", "casei", "accenti") or len(arguments) != 1:
            raise FilterError(f"filter: unknown function {node.name}({len(arguments)} arguments); functions: CASEI(text), ACCENTI(text)")
        (value,) = arguments
        fold = str.casefold if name != "accenti" else _strip_accents
        if isinstance(value, pd.Series) and _is_text(value):
            return value.map(fold, na_action="ignore").astype(value.dtype)
        if isinstance(value, str):
            return fold(value)
        raise FilterError(f"filter: {node.name.upper()} takes text, not {_describe(value)}")

    @handle(*values.LITERALS)
    def literal(self, node):
        return node

    @handle(type(None))
    def open_end(self, node):
        return None

    @handle(values.Interval)
    def interval(self, node, start, end):
        return node

    @handle(values.Geometry)
    def geometry(self, node):
        geometry = shapely.geometry.shape(node.geometry)
        crs = node.geometry.get("crs")
        if crs is not None:
            raise FilterError(f"filter: a geometry with its own CRS ({crs}); geometries are read in CRS84 lon/lat")
        shapely.prepare(geometry)
        return geometry

    @handle(values.Envelope)
    def envelope(self, node):
        return shapely.box(node.x1, node.y1, node.x2, node.y2)


def _aligned(lhs, rhs):
    """Both sides of a comparison in the property's type (dates as days); FilterError when a value cannot be one."""
    if isinstance(rhs, pd.Series) and not isinstance(lhs, pd.Series):
        rhs, lhs = _aligned(rhs, lhs)
        return lhs, rhs
    if not isinstance(lhs, pd.Series):
        return lhs, rhs
    if isinstance(rhs, pd.Series) and _kind(lhs) != _kind(rhs):
        raise FilterError(f"filter: property {lhs.name!r} holds {_kind(lhs)}s and {rhs.name!r} {_kind(rhs)}s; they do not compare")
    if pd.api.types.is_datetime64_any_dtype(lhs):
        return lhs.dt.normalize(), (rhs.dt.normalize() if isinstance(rhs, pd.Series) else _day(rhs, lhs.name))
    if isinstance(rhs, pd.Series):
        return lhs, rhs
    if pd.api.types.is_bool_dtype(lhs):
        if not isinstance(rhs, bool):
            raise FilterError(f"filter: property {lhs.name!r} is true or false; {rhs!r} is neither")
    elif pd.api.types.is_numeric_dtype(lhs):
        if not _is_number(rhs):
            raise FilterError(f"filter: property {lhs.name!r} holds numbers; {rhs!r} is not a number")
    elif not isinstance(rhs, str):
        raise FilterError(f"filter: property {lhs.name!r} holds text; compare it with a quoted string, not {rhs!r}")
    return lhs, rhs


def _day(value, name: str) -> pd.Timestamp:
    """A date, timestamp or ISO string as the UTC day it falls on."""
    if isinstance(value, (date, datetime, str)) and not isinstance(value, bool):
        try:
            stamp = pd.Timestamp(value)
        except ValueError:
            stamp = None
        if stamp is not None and not pd.isna(stamp):
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            return stamp.normalize()
    raise FilterError(f"filter: property {name!r} holds dates; {value!r} is not a date (use DATE('YYYY-MM-DD'))")


def _span(value):
    """(start, end) days of a date property, a date or timestamp, or an interval ('..' ends open)."""
    if isinstance(value, pd.Series):
        if not pd.api.types.is_datetime64_any_dtype(value):
            raise FilterError(f"filter: temporal operators need a date property; {value.name!r} is not one")
        days = value.dt.normalize()
        return days, days
    if isinstance(value, values.Interval):
        start = FIRST if value.start is None else _day(value.start, "interval start")
        end = LAST if value.end is None else _day(value.end, "interval end")
        if start > end:
            raise FilterError(f"filter: INTERVAL ends ({end:%Y-%m-%d}) before it starts ({start:%Y-%m-%d})")
        return start, end
    day = _day(value, "temporal operand")
    return day, day


def _geometries(value):
    if isinstance(value, pd.Series):
        if value.name != GEOMETRY:
            raise FilterError(f"filter: spatial operators need the geometry property '{GEOMETRY}', not {value.name!r}")
        return np.asarray(value.array)
    if isinstance(value, shapely.Geometry):
        return value
    raise FilterError(f"filter: spatial operators need geometries (WKT, GeoJSON or ENVELOPE), not {value!r}")


def _truth(result, length: int) -> np.ndarray:
    """A comparison's result as a mask: missing values match nothing."""
    if isinstance(result, (pd.Series, pd.arrays.BooleanArray)):
        return pd.Series(result).fillna(False).to_numpy(dtype=bool)
    if isinstance(result, np.ndarray):
        return result.astype(bool)
    return np.full(length, bool(result))


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    return "number" if pd.api.types.is_numeric_dtype(series) else "text"


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _describe(value) -> str:
    return f"property {value.name!r}" if isinstance(value, pd.Series) else repr(value)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
