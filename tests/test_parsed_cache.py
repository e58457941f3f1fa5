"""The parsed-dataset cache: a second load of the same files gives the same dataset; any change is seen."""
from __future__ import annotations

import shutil

import pandas as pd

from layers.catalog import load_dataset, parse_dataset

from .conftest import ROOT


def assert_same(a, b) -> None:
    assert a.versions == b.versions and a.study_area == b.study_area and a.licences == b.licences
    for name in ("courts", "prisons", "events", "incidents", "roads", "settlements", "country"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_second_load_comes_from_the_cache_and_equals_a_fresh_parse(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    first = load_dataset(data)
    assert len(list((tmp_path / "cache").glob("dataset-*.pickle"))) == 1
    second = load_dataset(data)
    assert_same(second, parse_dataset(data / "dataset.json"))
    assert_same(second, first)


def test_a_changed_layer_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    before = load_dataset(data)
    courts = data / "courts.csv"
    old_name = before.courts["name"].iat[0]
    courts.write_text(courts.read_text(encoding="utf-8").replace(old_name, "Renamed court", 1), encoding="utf-8")
    after = load_dataset(data)
    assert after.courts["name"].iat[0] == "Renamed court"
    assert after.versions["courts"] != before.versions["courts"] and after.version != before.version
    assert len(list((tmp_path / "cache").glob("dataset-*.pickle"))) == 2


def test_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_JUSTICE_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert load_dataset(ROOT / "data").courts.shape[0] > 0
    assert not any(tmp_path.iterdir())


def test_an_entry_pruned_by_another_process_while_read_still_loads(tmp_path, monkeypatch):
    """Processes share the cache folder and each prunes it: an entry removed between reading and marking it used
    (seen with two test workers and other processes) still gives the dataset read."""
    import pickle

    from layers import parsed

    monkeypatch.setenv("GEO_JUSTICE_CACHE", str(tmp_path / "cache"))
    data = shutil.copytree(ROOT / "data", tmp_path / "data")
    first = load_dataset(data)
    (entry,) = (tmp_path / "cache").glob("dataset-*.pickle")
    real_load = pickle.load

    def load_then_prune(handle):
        value = real_load(handle)
        entry.unlink()  # what another process's pruning does
        return value
    monkeypatch.setattr(parsed.pickle, "load", load_then_prune)
    assert_same(load_dataset(data), first)
