"""The engine on the embedded Mali dataset, and per-region tables on the official boundaries."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.conflict import ConflictParams

PARAMS = AccessParams(resolution_m=5000.0)  # coarse cells keep the suite fast; the README figures use 1 km


@pytest.fixture(scope="module")
def engine(dataset):
    return Engine(dataset)


def test_nominal_coverage_is_never_below_actual(engine):
    table = analysis.coverage(engine, PARAMS).summary
    for t in (30, 60, 120, 240):
        assert (table[f"nominal_{t}"] >= table[f"actual_{t}"] - 1e-6).all()
    every = table.set_index("region").loc["All"]
    assert every["lost_240"] > 0  # closures and relocations cost access somewhere
    assert every["population"] == pytest.approx(engine.population(engine.grid(5000.0)).sum())


def test_population_of_catchments_adds_up(engine):
    result = analysis.catchment_areas(engine, PARAMS)
    access = engine.access(PARAMS)
    unreached = access.population[access.label < 0].sum()
    assert set(result.summary["name"]) == set(access.facilities["name"])
    sites = access.facilities.drop_duplicates("site")["id"]
    assert result.summary.set_index("id").loc[sites, "population"].sum() + unreached == pytest.approx(
        access.population.sum(), rel=1e-9)
    mopti = result.summary.set_index("name").loc["Tribunal de grande instance de Mopti"]
    assert "Cour d'appel de Mopti" in mopti["shared_with"] and mopti["population"] > 0


def test_avoiding_insecure_areas_costs_coverage(engine):
    off = engine.access(replace(PARAMS, conflict=ConflictParams(mode="off")))
    avoid = engine.access(replace(PARAMS, conflict=ConflictParams(mode="avoid")))
    within = lambda a: a.population[a.minutes <= 120].sum()  # noqa: E731
    assert within(avoid) < within(off)


@pytest.mark.parametrize("level, units", [("adm1", 9), ("adm2", 50)])
def test_per_region_tables_on_official_boundaries(dataset, level, units, request):
    path = request.getfixturevalue(level)
    engine = Engine(dataset.with_boundaries(path, "shapeName"))
    result = analysis.coverage(engine, PARAMS, (60, 120, 240))
    table = result.summary.set_index("region")
    assert len(table) == units + 1 and result.manifest["parameters"]["regions_from"] == "boundaries"
    assert table.drop("All")["population"].sum() == pytest.approx(table.loc["All", "population"], rel=1e-9)
    assert table.loc["All", "population"] == pytest.approx(
        engine.population(engine.grid(5000.0)).sum(), rel=1e-9)
    if level == "adm1":
        # Bamako district sits on several courts: nearly all of it is within 2 hours; Kidal is far from any
        assert table.loc["Bamako", "actual_share_120"] > 0.95
        assert table.loc["Kidal", "actual_share_120"] < table.loc["Bamako", "actual_share_120"]
    assert np.isfinite(table["actual_share_240"]).all()
