"""The timeline: equal to single-date runs and to a full recomputation, and true to the status history."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.conflict import ConflictParams, gaussian_filter, recent_incidents, risk_surface
from geo_justice.licence_floors import public_dataset
from geo_justice.timeline import date_rows, timeline

from .conftest import ROOT

#: Coarse cells keep the monthly timeline quick; conflict off is where dates are reused and updated incrementally.
OFF = AccessParams(resolution_m=10000, conflict=ConflictParams(mode="off"))
PENALTY = AccessParams(resolution_m=10000)


@pytest.fixture(scope="module")
def monthly(dataset):
    return timeline(Engine(dataset), OFF, "2012-01-01", "2023-12-31", "month")


def history_events(date: str, status: str) -> set[str]:
    """Facility ids of the status history's `status` events on `date`, read straight from the CSV."""
    with open(ROOT / "data" / "status_history.csv", encoding="utf-8") as handle:
        return {row["facility_id"] for row in csv.DictReader(handle) if row["as_of"] == date and row["status"] == status}


def numbers(frame: pd.DataFrame) -> np.ndarray:
    return frame[[c for c in frame.columns if c.startswith(("nominal_", "actual_", "lost_"))]].to_numpy(float)


@pytest.mark.parametrize("params, step, dates", [
    (OFF, "month", ("2012-03-01", "2012-05-01", "2015-02-01")),
    (PENALTY, "quarter", ("2012-01-01", "2012-07-01", "2015-04-01")),
], ids=["conflict-off-monthly", "conflict-penalty-quarterly"])
def test_timeline_equals_single_date_runs(dataset, monthly, params, step, dates):
    """Three dates of a timeline (before the closures, during them, after the reopenings) give what
    `coverage` gives on each date alone, on a fresh engine: overall and every region."""
    result = monthly if step == "month" else timeline(Engine(dataset), params, "2012-01-01", "2015-06-30", step)
    single = Engine(dataset)
    for date in dates:
        expected = analysis.coverage(single, replace(params, as_of=date)).summary.set_index("region")
        overall = result.layers["timeline"].set_index("date").loc[[date]]
        regions = result.layers["regions"][result.layers["regions"]["date"] == date].set_index("region")
        np.testing.assert_allclose(numbers(overall), numbers(expected.loc[["All"]]), rtol=1e-12)
        np.testing.assert_allclose(numbers(regions), numbers(expected.drop(index="All").loc[regions.index]), rtol=1e-12)


def test_incremental_equals_full_recomputation(dataset, monthly):
    """Every incrementally updated date, and reused dates every quarter, equal computing the date from scratch."""
    table = monthly.summary
    assert set(table["computed"]) == {"full", "incremental", "reused"}
    dates = sorted(set(table.loc[table["computed"] != "reused", "date"]) | set(table["date"].iloc[::3]))
    naive = date_rows(Engine(dataset), OFF, dates, (30.0, 60.0, 120.0, 240.0), incremental=False)
    assert set(naive["computed"]) == {"full"}
    expected = naive.set_index(["date", "region"]).sort_index()
    overall = table.set_index("date").loc[dates]
    np.testing.assert_allclose(numbers(overall), numbers(expected.xs("All", level="region")), rtol=1e-12)
    regions = monthly.layers["regions"].set_index(["date", "region"]).sort_index()
    np.testing.assert_allclose(numbers(regions.loc[dates]), numbers(expected.drop(index="All", level="region")), rtol=1e-12)


@pytest.mark.parametrize("window_days", [365, 1], ids=["default-window", "one-day-window"])
def test_conflict_penalty_timeline_equals_full_recomputation(dataset, window_days):
    """With the conflict penalty every date's friction differs (incident weights decay, incidents enter and leave
    the window): every date of a monthly timeline across the 2012 closures and the 2013 reopenings equals
    computing it from scratch with `Engine.access` on each date. A one-day window is empty on some dates and
    not on others (the reopenings of 2013-09-01 fall in an empty run), so dates switch between reuse,
    incremental updates and searches."""
    params = replace(PENALTY, conflict=ConflictParams(window_days=window_days))
    engine = Engine(dataset)
    table = date_rows(engine, params, [d.strftime("%Y-%m-%d") for d in pd.date_range("2012-02-01", "2013-10-01", freq="MS")],
                     (30.0, 60.0, 120.0, 240.0))
    dates = list(dict.fromkeys(table["date"]))
    overall = table[table["region"] == "All"]
    if window_days == 1:
        assert set(overall["incidents_in_window"] == 0) == {True, False}
        assert set(overall["computed"]) == {"full", "incremental", "reused"}
    else:
        assert (overall["incidents_in_window"] > 0).all() and set(overall["computed"]) == {"full"}
    windows = [recent_incidents(dataset.incidents, pd.Timestamp(d), window_days) for d in dates]
    assert overall["incidents_in_window"].tolist() == [len(w) for w in windows]
    assert overall["fatalities_in_window"].tolist() == [w["fatalities"].fillna(0).sum() for w in windows]
    naive = date_rows(Engine(dataset), params, dates, (30.0, 60.0, 120.0, 240.0), incremental=False)
    columns = [c for c in naive.columns if c != "computed"]
    pd.testing.assert_frame_equal(table[columns].reset_index(drop=True), naive[columns].reset_index(drop=True),
                                  rtol=1e-12)


@pytest.mark.parametrize("floors", [False, True], ids=["open-incidents", "licence-floors"])
def test_each_dates_risk_is_the_gaussian_sum_of_the_incidents_of_its_window(dataset, floors):
    """Each date's risk, its window chosen from the incidents placed on the grid once, equals at 5 km (a block is a
    cell) the sum over the incidents `recent_incidents` keeps of weight x the truncated, normalised Gaussian
    kernel around their cell, written out incident by incident. With licence floors (every incident restricted),
    the window's sparse cells drop out."""
    data = public_dataset(replace(dataset, incidents=dataset.incidents.assign(source_dataset="acled"))) if floors else dataset
    engine = Engine(data)
    grid = engine.grid(5000)
    params = ConflictParams(mode="penalty")
    sigma = params.bandwidth_km * 1000 / grid.cell_size
    radius = int(3.0 * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel = np.outer(kernel, kernel) / kernel.sum() ** 2
    for date in ("2012-06-01", "2016-03-01", "2020-01-01"):
        as_of = pd.Timestamp(date)
        recent = recent_incidents(data.incidents, as_of, params.window_days)
        dates = data.incidents["date"]
        in_window = ((dates > as_of - pd.Timedelta(days=params.window_days)) & (dates <= as_of)).sum()
        assert (len(recent) < in_window) if floors else (len(recent) == in_window > 50)
        rows, cols, inside = grid.cells(recent.geometry)
        age = (as_of - recent["date"]).dt.days.to_numpy()
        weight = (1 + 0.5 * recent["fatalities"].fillna(0).to_numpy(float)) * 0.5 ** (age / 180)
        expected = np.zeros((grid.shape[0] + 2 * radius, grid.shape[1] + 2 * radius))
        for r, c, w in zip(rows[inside], cols[inside], weight[inside]):
            expected[r:r + 2 * radius + 1, c:c + 2 * radius + 1] += w * kernel
        expected = expected[radius:-radius, radius:-radius] * 1000 / grid.cell_area_km2
        risk = risk_surface(grid, data.incidents, as_of, params, engine.placed_incidents(grid))
        assert risk.block == 1 and expected.max() > 1
        np.testing.assert_allclose(risk.values(), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape, sigma", [((40, 50), 4.0), ((7, 300), 2.5), ((3, 3), 4.0), ((1, 1), 0.1), ((60, 2), 7.3)])
def test_the_smoothing_is_scipys_gaussian_filter_bit_for_bit(shape, sigma):
    """The risk's smoothing (two numba kernels, so that no command imports scipy.ndimage for it) gives exactly what
    scipy.ndimage.gaussian_filter gives with zeros beyond the edges and the kernel cut at 3 sigma, on sparse
    weighted incidents, windows narrower than the kernel and a kernel of one cell included."""
    import scipy.ndimage

    rng = np.random.default_rng(sum(shape))
    values = np.zeros(shape)
    np.add.at(values.ravel(), rng.integers(0, values.size, 25), rng.random(25) * 5)
    expected = scipy.ndimage.gaussian_filter(values, sigma=sigma, mode="constant", truncate=3.0)
    assert expected.max() > 0
    np.testing.assert_array_equal(gaussian_filter(values, sigma), expected)


def test_closures_of_2012_and_reopenings_show(monthly):
    """Actual coverage drops when the April 2012 closures take effect and rises with the 2013 reopenings of
    Gao and Tombouctou and the 2015 partial returns; nominal coverage (every court at its seat) moves only
    with the people's year (the population is that of each date's year)."""
    table = monthly.summary.set_index("date")
    closed = history_events("2012-04-01", "closed")
    courts_closed = {i for i in closed if not i.startswith("ml-prison")}
    assert table.loc["2012-04-01", "courts_closed"] - table.loc["2012-03-01", "courts_closed"] == len(courts_closed)
    for t in ("60", "120", "240"):
        share = table[f"actual_share_{t}"]
        assert share["2012-04-01"] < share["2012-03-01"]
        assert share["2013-09-01"] > share["2013-08-01"]  # history: Gao and Tombouctou reopen 2013-09-01
        assert share["2015-01-01"] > share["2014-12-01"]  # history: the others partial from 2015-01-01
        nominal = table[f"nominal_share_{t}"]
        assert nominal.groupby(nominal.index.str[:4]).nunique().eq(1).all()
    reopened = {i for i in history_events("2013-09-01", "operational") if not i.startswith("ml-prison")}
    assert table.loc["2013-08-01", "courts_closed"] - table.loc["2013-09-01", "courts_closed"] == len(reopened)
    # between events nothing is recomputed
    assert table.loc["2012-05-01":"2013-08-01", "computed"].eq("reused").all()
    assert (table["lost_120"] >= 0).all()


def test_cli_monthly_timeline_prints_and_exports(tmp_path):
    outputs = [tmp_path / f"timeline.{s}" for s in ("csv", "gpkg", "geojson", "html", "png", "svg")]
    run = CliRunner().invoke(main, ["timeline", "--from", "2012-01-01", "--to", "2023-12-31", "--step", "month",
                                    "--resolution", "10000", "--conflict", "off", "--lang", "en"]
                             + [a for p in outputs for a in ("-o", str(p))])
    assert run.exit_code == 0, run.output
    assert "2012-04-01" in run.output and "2023-12-01" in run.output
    table = pd.read_csv(outputs[0])
    assert len(table) == 144 and table["date"].iloc[0] == "2012-01-01"
    import pyogrio
    assert {"timeline", "regions", "region_outlines"} <= {name for name, _ in pyogrio.list_layers(outputs[1])}
    collection = json.loads(outputs[2].read_text(encoding="utf-8"))
    assert collection["features"] and len(collection["features"][0]["properties"]["timeline"]) == 144
    page = outputs[3].read_text(encoding="utf-8")
    assert "vegaEmbed" in page and "<script src=\"http" not in page  # Vega inlined: works offline
    assert outputs[4].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert outputs[5].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert all(p.with_name(p.name + ".manifest.json").exists() for p in outputs)


@pytest.mark.parametrize("args, message", [
    (["--from", "2015-01-01", "--to", "2014-01-01"], "empty date range"),
    (["--from", "2009-06-01", "--to", "2012-01-01"], "before the first status event (2010-01-01)"),
    (["--from", "2010-01-01", "--to", "2023-12-31", "--step", "day"], "more than 1,000"),
    (["--from", "2012-01-01", "--to", "2012-12-31", "--step", "fortnight"], "step must be one of"),
    (["--from", "2012-01-01", "--to", "2012-12-31", "-o", "t.xlsx"], "use one of"),
])
def test_cli_bad_ranges(args, message, tmp_path):
    run = CliRunner().invoke(main, ["timeline", "--resolution", "10000", *args])
    assert run.exit_code == 1 and message in run.output, run.output
    assert "Traceback" not in run.output


def test_map_with_time_slider(tmp_path):
    """The slider map is one offline file: regions with a share per date, every court with a state per date."""
    output = tmp_path / "timeline.html"
    run = CliRunner().invoke(main, ["map", "timeline", "--from", "2012-01-01", "--to", "2015-12-31", "--step", "year",
                                    "--resolution", "10000", "--conflict", "off", "-o", str(output)])
    assert run.exit_code == 0, run.output
    text = output.read_text(encoding="utf-8")
    assert "<script src=\"http" not in text and "type='range'" in text
    assert '"dates": ["2012-01-01", "2013-01-01", "2014-01-01", "2015-01-01"]' in text
    assert "partiellement en fonction" in text  # French by default


QUERY = "from=2012-01-01&to=2015-12-31&step=quarter&resolution=10000&conflict=off"


def test_api_timeline_geojson_and_csv_equal_the_core(client, dataset):
    expected = timeline(Engine(dataset), OFF, "2012-01-01", "2015-12-31", "quarter")
    answer = client.get(f"/analysis/timeline?{QUERY}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/geo+json")
    body = answer.json()
    assert [row["date"] for row in body["summary"]] == list(expected.summary["date"])
    np.testing.assert_allclose([row["actual_120"] for row in body["summary"]], expected.summary["actual_120"])
    regions = expected.layers["regions"]
    for feature in body["features"]:
        rows = regions[regions["region"] == feature["properties"]["region"]]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        np.testing.assert_allclose([r["actual_share_60"] for r in feature["properties"]["timeline"]],
                                   rows["actual_share_60"], equal_nan=True)
    table = pd.read_csv(io.StringIO(client.get(f"/analysis/timeline?{QUERY}&format=csv").text))
    np.testing.assert_allclose(table["lost_240"], expected.summary["lost_240"])
    again = client.get(f"/analysis/timeline?{QUERY}", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("query, message", [
    ("from=2015-01-01&to=2014-01-01", "empty date range"),
    ("from=2000-01-01&to=2014-01-01", "before the first status event"),
    ("from=2010-01-01&to=2023-12-31&step=day", "more than 1,000"),
    ("from=2012-01-01&to=2014-01-01&format=xlsx", "parameter 'format': Input should be 'geojson' or 'csv'"),
    ("to=2014-01-01", "from"),
])
def test_api_timeline_bad_input(client, query, message):
    answer = client.get(f"/analysis/timeline?{query}&resolution=10000")
    assert answer.status_code == 400 and message in answer.json()["detail"], answer.text


def test_embed_timeline_and_snippet(client):
    page = client.get(f"/embed/timeline?{QUERY}&lang=en")
    assert page.status_code == 200 and "vegaEmbed" in page.text and "<script src=\"http" not in page.text
    assert "Access to a working court" in page.text
    assert "Accès à un tribunal en fonction" in client.get(f"/embed/timeline?{QUERY}").text
    snippet = client.get(f"/embed/timeline/snippet?{QUERY}&lang=en&height=400").text
    assert snippet.startswith('<iframe src="http://testserver/embed/timeline?from=2012-01-01&amp;to=2015-12-31')
    assert 'height="400"' in snippet and "height=400" not in snippet
    slider = client.get(f"/maps/timeline?{QUERY}&lang=en")
    assert slider.status_code == 200 and "/static/" in slider.text and "type='range'" in slider.text
    assert client.get(f"/maps/timeline?{QUERY}&chart_threshold=45").status_code == 400
