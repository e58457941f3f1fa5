"""Matching place names across layers: without regard to case, accents or punctuation, plus declared aliases.

Official boundary files and facility tables spell names differently ("Ségou" / "Segou", "Koulikoro" /
"Koulikouro" in geoBoundaries). A dataset declares the spellings that differ beyond accents and case as
`aliases` on its boundary layer: {"other spelling": "name in the boundary file"}.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping


def name_key(name: str) -> str:
    """'Gourma-Rharous' and 'gourma rharous' give the same key: accents, case and punctuation dropped."""
    plain = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.casefold())


class NameMatcher:
    """Finds the official name (of `names`) that a name of another layer means."""

    def __init__(self, names: Iterable[str], aliases: Mapping[str, str] | None = None):
        self.names = list(names)
        self._by_key = {name_key(n): n for n in self.names}
        unknown = sorted(target for target in (aliases or {}).values() if name_key(target) not in self._by_key)
        if unknown:
            raise ValueError(f"alias target {unknown[0]!r} is not one of the names ({', '.join(self.names)})")
        for spelling, target in (aliases or {}).items():
            self._by_key.setdefault(name_key(spelling), self._by_key[name_key(target)])

    def match(self, name: str) -> str | None:
        """The official name `name` stands for, or None."""
        return self._by_key.get(name_key(name))
