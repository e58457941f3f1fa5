"""The embedded dataset: it loads offline, matches the published figures, and labels what is not observed."""
from __future__ import annotations

import pandas as pd
import pytest

from layers import read_incidents

AS_OF = "2023-11-17"  # date of the UN study of MINUSMA's justice and corrections support


def north_and_centre(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["zone"].isin(["north", "centre"])]


def test_courts_of_north_and_centre_match_the_un_study(dataset):
    courts = north_and_centre(dataset.facilities_as_of("court", AS_OF))
    assert len(courts) == 38
    working = courts["status"].isin(["operational", "partial"])
    assert working.sum() == 36
    relocated = courts[courts["sitting_name"] != ""]
    assert len(relocated) == 8
    assert relocated["status"].isin(["operational", "partial"]).sum() == 7


def test_documented_relocations(dataset):
    courts = dataset.facilities_as_of("court", AS_OF).set_index("name")
    sitting = dict(zip(courts.index, courts["sitting_name"]))
    by_seat = {name: place for name, place in sitting.items() if place}
    seats = " ".join(by_seat)
    for town, place in (("Bourem", "Gao"), ("Rharous", "Tombouctou"), ("Diré", "Tombouctou"),
                        ("Goundam", "Tombouctou"), ("Niafunké", "Tombouctou"), ("Ansongo", "Gao")):
        [name] = [n for n in by_seat if town in n]
        assert by_seat[name] == place, (name, by_seat[name])
    assert seats
    # Bourem's court sat in Gao from 2016, Gourma-Rharous's in Tombouctou from 2017
    bourem = dataset.facilities_as_of("court", "2015-12-31")
    assert (bourem.loc[bourem["name"].str.contains("Bourem"), "sitting_name"] == "").all()


def test_prisons_match_the_un_study(dataset):
    prisons = dataset.facilities_as_of("prison", AS_OF)
    northern = north_and_centre(prisons)
    assert len(northern) == 18
    operational = northern[northern["status"] == "operational"]
    assert len(operational) == 11
    assert operational["detainees"].sum() == 628
    high_risk = prisons.set_index("name")["high_risk_capacity"].dropna()
    assert sorted(high_risk.astype(int).tolist()) == [60, 100, 150]


def test_every_status_has_a_date_and_a_source(dataset):
    for kind in ("court", "prison"):
        frame = dataset.facilities(kind)
        assert frame["status_as_of"].notna().all()
        assert (frame["status_source"].str.len() > 0).all()
    assert (dataset.events["source"].str.len() > 0).all()


def test_synthetic_incidents_are_labelled_in_every_row(dataset):
    incidents = dataset.incidents
    assert len(incidents) > 1000
    assert (incidents["source_dataset"] == "synthetic").all()
    assert incidents["date"].min() >= pd.Timestamp("2012-01-01") and incidents["date"].max() <= pd.Timestamp("2023-12-31")


def test_synthetic_incidents_load_like_a_real_acled_export(dataset):
    raw = pd.read_csv(dataset.root / "incidents_synthetic.csv", dtype=str)
    assert raw.columns[0] == "event_id_cnty" and {"latitude", "longitude", "fatalities", "tags"} <= set(raw.columns)
    assert read_incidents(dataset.root / "incidents_synthetic.csv").attrs["format"] == "acled"
    assert raw["tags"].str.contains("synthetic").all()


def test_modelled_population_matches_census_regions(dataset):
    import rasterio
    with rasterio.open(dataset.population_path) as src:
        tags = src.tags()
        total = src.read(1).sum(dtype="float64")
    assert "MODELLED" in tags.get("DESCRIPTION", "").upper()
    census = pd.read_csv(dataset.root / "region_population.csv")
    assert total == pytest.approx(census["population"].sum(), rel=1e-4)


def test_dataset_does_not_depend_on_shared(dataset):
    text = (dataset.root / "dataset.json").read_text()
    assert "shared" not in text and ".." not in text
    assert list(dataset.boundaries["name"]) == list(dataset.admin[1]["name"])  # the embedded official regions
