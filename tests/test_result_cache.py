"""The result cache: bounded by bytes, but a question never evicts what it has used."""
from __future__ import annotations

from geo_justice.cache import ResultCache


def test_a_question_keeps_its_own_entries_past_the_budget_then_evicts_the_oldest():
    cache = ResultCache(max_bytes=10)
    computed: list[str] = []

    def get(key: str) -> str:
        return cache.get_or_compute(key, lambda: computed.append(key) or key, lambda _: 8)

    with cache.question():
        get("population"), get("friction"), get("travel time")  # 24 bytes held against a budget of 10
        get("population"), get("friction")
    assert computed == ["population", "friction", "travel time"]  # nothing was computed twice
    get("population")  # after the question: back within budget, the least recently used went first
    assert computed == ["population", "friction", "travel time", "population"]


def test_without_a_question_the_oldest_entry_goes_first():
    cache = ResultCache(max_bytes=10)
    computed: list[str] = []
    for key in ("a", "b", "a"):
        cache.get_or_compute(key, lambda key=key: computed.append(key) or key, lambda _: 8)
    assert computed == ["a", "b", "a"]
