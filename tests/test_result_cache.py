"""The result cache: bounded by bytes, but a question never evicts what it has used."""
from __future__ import annotations

import threading

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


def test_a_question_that_releases_a_layer_lets_it_go_before_building_the_next():
    """coverage releases the friction once both searches are done: past the budget it is evicted at once,
    while what the question still holds (and what another thread's question holds) stays."""
    cache = ResultCache(max_bytes=20)
    computed: list[str] = []

    def get(key: str) -> str:
        return cache.get_or_compute(key, lambda: computed.append(key) or key, lambda _: 8)

    other_holds, release_done = threading.Event(), threading.Event()

    def other_question() -> None:
        with cache.question():
            get("risk")
            other_holds.set()
            release_done.wait(10)

    other = threading.Thread(target=other_question)
    other.start()
    other_holds.wait(10)
    with cache.question():
        get("friction"), get("travel time"), get("risk")  # 24 bytes against 20
        cache.release("friction", "risk")  # friction goes; risk is still held by the other question
        assert cache.get("friction") is None and cache.get("risk") == "risk"
        get("population"), get("travel time")
    release_done.set()
    other.join()
    assert computed == ["risk", "friction", "travel time", "population"]
