"""CQL2 text and JSON (OGC 21-065r2) read into pygeofilter's syntax tree.

pygeofilter's own parsers do the reading. Its text grammar (0.4) writes temporal predicates infix
(`date T_AFTER DATE('2022-01-01')`), takes only timestamps in INTERVAL and reads T_INTERSECTS as
T_OVERLAPS; CQL2 writes them as functions (`T_AFTER(date, DATE('2022-01-01'))`) with dates or '..'
in intervals, and T_INTERSECTS means "shares an instant". Three grammar rules added to pygeofilter's
grammar and a small pass over CQL2 JSON make both readings follow the standard (pygeofilter PR #155
makes the same change upstream).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import lark
import pygeofilter.parsers.cql2_text.parser as text_parser
from lark import Lark, v_args
from pygeofilter import ast
from pygeofilter.cql2 import TEMPORAL_PREDICATES_MAP
from pygeofilter.parsers.cql2_json.parser import walk_cql_json

from .filters import FilterError

TEXT, JSON = "cql2-text", "cql2-json"

#: CQL2 temporal function names -> a function of (lhs, rhs) making pygeofilter's node.
TEMPORAL = {**{name: cls for name, cls in TEMPORAL_PREDICATES_MAP.items() if name != "t_intersects"},
            "t_starts": ast.TimeBegins, "t_startedby": ast.TimeBegunBy, "t_finishes": ast.TimeEnds,
            "t_finishedby": ast.TimeEndedBy, "t_disjoint": ast.TimeDisjoint,
            "t_intersects": lambda lhs, rhs: ast.Not(ast.TimeDisjoint(lhs, rhs))}

_EXTENSION = r"""
%extend temporal_predicate: _temporal_function "(" expression "," expression ")" -> temporal_call
!_temporal_function: "T_BEFORE"i | "T_AFTER"i | "T_MEETS"i | "T_METBY"i | "T_OVERLAPS"i | "T_OVERLAPPEDBY"i
                   | "T_STARTS"i | "T_STARTEDBY"i | "T_DURING"i | "T_CONTAINS"i | "T_FINISHES"i | "T_FINISHEDBY"i
                   | "T_EQUALS"i | "T_DISJOINT"i | "T_INTERSECTS"i
%override interval: "INTERVAL" "(" _instant "," _instant ")"
_instant: "'" (DATETIME | DATE | OPEN_END) "'"
OPEN_END: ".."
"""


@v_args(inline=True)
class _Transformer(text_parser.CQLTransformer):
    """pygeofilter's transformer with CQL2's temporal function names."""

    def binary_temporal_predicate(self, lhs, op, rhs):
        return TEMPORAL[op.lower()](lhs, rhs)

    def temporal_call(self, op, lhs, rhs):
        return TEMPORAL[op.lower()](lhs, rhs)

    def OPEN_END(self, _):
        return None


_GRAMMAR = Path(text_parser.__file__).with_name("grammar.lark")
_PARSER = Lark(_GRAMMAR.read_text() + _EXTENSION, source_path=str(_GRAMMAR), parser="lalr",
               maybe_placeholders=False, transformer=_Transformer(), import_paths=[str(_GRAMMAR.parent.parent)])


@lru_cache(maxsize=256)
def parse(text: str, lang: str = TEXT) -> ast.Node:
    """The syntax tree of a CQL2 filter in `lang` ('cql2-text' or 'cql2-json'); FilterError names where it fails.

    Trees are kept for the last 256 filters asked (a client paging through a filter parses it once)."""
    if lang == TEXT:
        try:
            return _PARSER.parse(text)
        except lark.UnexpectedInput as exc:
            got = getattr(exc, "token", None) or getattr(exc, "char", None)
            what = "end of text" if got is None or getattr(got, "type", "") == "$END" else repr(str(got))
            raise FilterError(f"filter: CQL2 text not understood at character {exc.column} (line {exc.line}): "
                              f"unexpected {what}\n{exc.get_context(text).rstrip()}") from None
        except lark.exceptions.VisitError as exc:
            raise FilterError(f"filter: {exc.orig_exc}") from None
    if lang == JSON:
        try:
            tree = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FilterError(f"filter: not JSON at character {exc.pos + 1} (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
        try:
            return walk_cql_json(_standard_json(tree))
        except (KeyError, IndexError, TypeError, ValueError, RecursionError) as exc:
            raise FilterError(f"filter: not a CQL2 JSON expression ({type(exc).__name__}: {exc})") from None
    raise FilterError(f"parameter 'filter-lang': {lang!r} is not one of {TEXT}, {JSON}")


def _standard_json(node):
    """CQL2 JSON with the operations pygeofilter 0.4 reads otherwise (temporal names, ACCENTI) made into its nodes."""
    if isinstance(node, list):
        return [_standard_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {key: _standard_json(value) for key, value in node.items()}
    op = node.get("op")
    if isinstance(op, str) and op.lower() in TEMPORAL:
        lhs, rhs = (walk_cql_json(arg) for arg in node["args"])
        return TEMPORAL[op.lower()](lhs, rhs)
    if op == "accenti":
        return ast.Function(op, [walk_cql_json(node["args"][0])])
    return node
