"""Sweeps on a dask.distributed LocalCluster: the same numbers as in-process, and surviving a dead worker."""
from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace

import pandas as pd
import pytest
from click.testing import CliRunner

from geo_justice.access import AccessParams
from geo_justice.cli import main
from geo_justice.conflict import ConflictParams
from geo_justice.sweep import DatasetSpec, SweepError, Task, run_tasks, sweep, timeline_sweep

from .conftest import ROOT

distributed = pytest.importorskip("distributed")

SPEC = DatasetSpec(str(ROOT / "data"))
PARAMS = AccessParams(resolution_m=10000, conflict=ConflictParams(mode="off"))
SCENARIO = str(ROOT / "data" / "scenarios" / "relocated-back-at-seats.json")


def same_numbers(a: pd.DataFrame, b: pd.DataFrame) -> None:
    columns = [c for c in a.columns if c != "computed"]  # runs split differently: how a date was got may differ
    pd.testing.assert_frame_equal(a[columns].reset_index(drop=True), b[columns].reset_index(drop=True))


@pytest.fixture(scope="module")
def in_process():
    return timeline_sweep(SPEC, PARAMS, "2012-01-01", "2015-12-31", "quarter")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two worker processes whose scheduler retries a task once after its worker dies."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
            yield local


def test_local_cluster_of_two_workers_gives_the_in_process_numbers(in_process):
    """`--workers 2`: a fresh LocalCluster; the timeline (split into runs) and a sweep of dates x scenario."""
    on_dask = timeline_sweep(SPEC, PARAMS, "2012-01-01", "2015-12-31", "quarter", workers=2)
    assert on_dask.manifest["parameters"]["scheduler"] == "LocalCluster of 2 workers"
    assert on_dask.manifest["parameters"]["runs"] == 4
    same_numbers(in_process.summary, on_dask.summary)
    same_numbers(in_process.layers["regions"], on_dask.layers["regions"])


def test_sweep_over_dates_and_scenarios_on_a_scheduler(cluster):
    """`--scheduler ADDRESS`: tasks in the order asked, equal to running them here."""
    dates = ["2012-01-01", "2016-01-01", "2023-11-17"]
    here = sweep([SPEC], PARAMS, dates, [SCENARIO])
    there = sweep([SPEC], PARAMS, dates, [SCENARIO], scheduler=cluster.scheduler_address)
    assert list(dict.fromkeys(there["as_of"])) == dates
    pd.testing.assert_frame_equal(here, there)


def test_a_killed_worker_does_not_stop_the_sweep(cluster, in_process):
    """Kill a worker process while it holds tasks: the scheduler runs them again and the sweep completes."""
    from distributed import Client

    with Client(cluster) as watcher:
        pids = watcher.run(os.getpid)
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["result"] = timeline_sweep(SPEC, PARAMS, "2012-01-01", "2015-12-31", "quarter",
                                                   scheduler=cluster.scheduler_address, chunks=8)
            except Exception as exc:  # reported below
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        deadline, busy = time.monotonic() + 60, []
        while not busy and time.monotonic() < deadline:
            busy = [address for address, keys in watcher.processing().items() if keys]
            time.sleep(0.02)
        assert busy, "no worker ever received a task"
        os.kill(pids[busy[0]], signal.SIGKILL)
        thread.join(240)
    assert "error" not in outcome, outcome.get("error")
    same_numbers(in_process.summary, outcome["result"].summary)


def test_a_task_that_kills_its_worker_twice_fails_the_sweep_by_name(cluster):
    def dies(engine, _):
        os._exit(1)

    tasks = [Task("harmless", SPEC, lambda engine, x: x, (1,)), Task("deadly date 2013-01-01", SPEC, dies, (2,))]
    with pytest.raises(SweepError, match="deadly date 2013-01-01"):
        run_tasks(tasks, scheduler=cluster.scheduler_address)


def test_cli_sweep_writes_nothing_when_it_fails(tmp_path):
    output = tmp_path / "sweep.csv"
    run = CliRunner().invoke(main, ["sweep", "--resolution", "10000", "--date", "2013-01-01", "--scheduler",
                                    "tcp://127.0.0.1:9", "-o", str(output)])
    assert run.exit_code == 1 and "cannot connect" in run.output, run.output
    assert not output.exists()


def test_cli_sweep_in_process(tmp_path):
    output = tmp_path / "sweep.csv"
    run = CliRunner().invoke(main, ["sweep", "--resolution", "10000", "--conflict", "off", "--from", "2012-01-01",
                                    "--to", "2014-12-31", "--step", "year", "--scenario", SCENARIO, "-o", str(output)])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(output)
    assert list(dict.fromkeys(table["as_of"])) == ["2012-01-01", "2013-01-01", "2014-01-01"]
    assert set(table["scenario"]) == {"relocated-back-at-seats"}


def test_sweep_over_two_datasets_in_process(tmp_path):
    """Datasets are swept like dates: the toy study area's rows equal `coverage` on it alone."""
    from geo_justice import analysis
    from geo_justice.sweep import engine_for

    from .toy import make_dataset
    toy = DatasetSpec(str(make_dataset(tmp_path / "toy")))
    params = AccessParams(resolution_m=2000, conflict=ConflictParams(mode="off"), as_of="2023-11-17")
    table = sweep([SPEC, toy], params, ["2023-11-17"])
    assert list(dict.fromkeys(table["dataset"])) == ["data", "toy"]
    expected = analysis.coverage(engine_for(toy), params).summary
    pd.testing.assert_frame_equal(table[table["dataset"] == "toy"].drop(columns=["dataset", "scenario", "as_of"])
                                  .reset_index(drop=True), expected)


def test_cli_unknown_region_fails_before_any_work():
    run = CliRunner().invoke(main, ["timeline", "--from", "2012-01-01", "--to", "2012-03-01", "--resolution", "10000",
                                    "--region", "Atlantis"])
    assert run.exit_code == 1 and "'Atlantis': not a region; regions are" in run.output


def test_admin_level_reaches_the_workers(cluster, dataset, tmp_path):
    """`--admin-level 2` on a cluster: the workers build the per-cercle tables this process builds (the 50 cercles
    of the dataset's admin level 2, not its 9 regions), for a timeline and for a sweep of dates."""
    from geo_justice import analysis
    from geo_justice.access import Engine
    from geo_justice.timeline import timeline

    cercles = Engine(dataset.with_admin_level(2))
    names = set(dataset.admin[2]["name"])
    common = ["--resolution", "10000", "--conflict", "off", "--admin-level", "2", "--scheduler", cluster.scheduler_address]

    output = tmp_path / "timeline.gpkg"
    run = CliRunner().invoke(main, ["timeline", "--from", "2012-01-01", "--to", "2013-12-31", "--step", "quarter",
                                    *common, "-o", str(output)])
    assert run.exit_code == 0, run.output
    import pyogrio
    there = pyogrio.read_dataframe(output, layer="regions")
    assert set(there["region"]) == names
    here = timeline(cercles, PARAMS, "2012-01-01", "2013-12-31", "quarter").layers["regions"]
    same_numbers(here, there[list(here.columns)])

    output = tmp_path / "sweep.csv"
    run = CliRunner().invoke(main, ["sweep", "--date", "2013-01-01", "--date", "2016-01-01", *common, "-o", str(output)])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(output)
    assert set(table["region"]) == names | {"All"}
    for date in ("2013-01-01", "2016-01-01"):
        expected = analysis.coverage(cercles, replace(PARAMS, as_of=date)).summary
        rows = table[table["as_of"] == date].drop(columns=["dataset", "scenario", "as_of"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, expected, check_dtype=False)
