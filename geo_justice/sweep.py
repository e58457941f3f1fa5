"""Sweeps: many independent questions (dates, scenario files, datasets), in this process or on Dask.

A `Task` names a dataset (`DatasetSpec`, paths every worker can read), a module-level function
`fn(engine, *args)` and its arguments. `run_tasks` runs them here by default, or on a
`dask.distributed` cluster: an existing scheduler (`scheduler="tcp://host:8786"`) or a LocalCluster of
`workers` processes. Each process loads a dataset once (`engine_for`), results come back in the order
asked, and a task whose worker dies is run again; the sweep fails, naming the task, only if it fails
again (the scheduler's `allowed-failures`, set to 1 for the LocalCluster). Nothing is returned, so
nothing is written, unless every task succeeded.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from layers.catalog import load_dataset

from .access import AccessParams, Engine
from .defaults import DEFAULT_THRESHOLDS
from .analysis import AnalysisResult, _thresholds, coverage, scenario_delta
from .scenarios import read_scenario
from .timeline import assemble, date_rows, timeline_dates

TaskProgress = Callable[[int], None]


class SweepError(RuntimeError):
    """A task of a sweep failed (twice, when its worker died): names the task."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset is: its folder (None: embedded), and its per-region boundaries as the command line gives
    them: a boundary file with its name field (None: detected), else the dataset's own admin level (None: 1)."""

    data: str | None = None
    boundaries: str | None = None
    name_field: str | None = None
    admin_level: int | None = None

    @property
    def label(self) -> str:
        return Path(self.data).name if self.data else "embedded"


@functools.lru_cache(maxsize=4)
def engine_for(spec: DatasetSpec) -> Engine:
    """The engine on `spec`, loaded once per process (each Dask worker keeps its own)."""
    dataset = load_dataset(spec.data)
    if spec.boundaries:
        dataset = dataset.with_boundaries(spec.boundaries, spec.name_field)
    elif spec.admin_level is not None:
        dataset = dataset.with_admin_level(spec.admin_level)
    return Engine(dataset)


@dataclass(frozen=True)
class Task:
    name: str
    dataset: DatasetSpec
    fn: Callable[..., Any]
    args: tuple = ()
    size: int = 1  # units of progress (e.g. dates) the task counts for


def _run(task: Task) -> Any:
    return task.fn(engine_for(task.dataset), *task.args)


def run_tasks(tasks: Sequence[Task], *, engines: Mapping[DatasetSpec, Engine] | None = None,
              scheduler: str | None = None, workers: int | None = None,
              progress: TaskProgress | None = None) -> list[Any]:
    """Every task's result, in the order of `tasks`. In this process unless `scheduler` (an address) or
    `workers` (a LocalCluster of that many processes) is given; `engines` are reused in-process."""
    step = progress or (lambda _: None)
    if scheduler is None and workers is None:
        out = []
        for task in tasks:
            engine = (engines or {}).get(task.dataset) or engine_for(task.dataset)
            try:
                out.append(task.fn(engine, *task.args))
            except Exception as exc:
                raise SweepError(f"task '{task.name}' failed: {exc}") from exc
            step(task.size)
        return out
    if scheduler is not None and workers is not None:
        raise ValueError("give --workers (a local cluster) or --scheduler (a running one), not both")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    with connected(scheduler, workers) as client:
        return _on_dask(client, tasks, step)


@contextmanager
def connected(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A dask Client on `scheduler`, or on a fresh LocalCluster of `workers` single-threaded processes whose
    scheduler fails a task only when its worker died twice (closed on exit)."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="5s")
        except OSError as exc:
            raise ValueError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            yield client
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=50)
    with cluster, Client(cluster) as client:
        yield client


def _on_dask(client, tasks: Sequence[Task], step: TaskProgress) -> list[Any]:
    from dask.distributed import as_completed

    futures = [client.submit(_run, task, pure=False) for task in tasks]
    by_key = {future.key: task for future, task in zip(futures, tasks)}
    try:
        for future in as_completed(futures):
            if future.status == "error":
                exc = future.exception()
                raise SweepError(f"task '{by_key[future.key].name}' failed: {type(exc).__name__}: {exc}")
            step(by_key[future.key].size)
        return [future.result() for future in futures]
    finally:
        client.cancel(futures)


# The sweeps the command line offers ------------------------------------------------------------------


def date_chunks(dates: Sequence[str], pieces: int) -> list[list[str]]:
    """`dates` in at most `pieces` runs of consecutive dates, sizes differing by at most one."""
    pieces = max(1, min(pieces, len(dates)))
    size, extra = divmod(len(dates), pieces)
    out, start = [], 0
    for i in range(pieces):
        end = start + size + (i < extra)
        out.append(list(dates[start:end]))
        start = end
    return out


def _timeline_chunk(engine: Engine, params: AccessParams, dates: list[str], thresholds: tuple[float, ...]) -> pd.DataFrame:
    return date_rows(engine, params, dates, thresholds)


def timeline_sweep(spec: DatasetSpec, params: AccessParams, start: str, end: str, step: str = "month",
                   thresholds: Sequence[float] = DEFAULT_THRESHOLDS, *, force: bool = False,
                   engines: Mapping[DatasetSpec, Engine] | None = None, scheduler: str | None = None,
                   workers: int | None = None, chunks: int | None = None,
                   progress: TaskProgress | None = None) -> AnalysisResult:
    """`timeline.timeline` with its dates split into runs of consecutive dates (each run reuses work
    within itself), one task each, run by `run_tasks`. Default: 2 runs per worker, 1 in-process."""
    thresholds = _thresholds(thresholds)
    engine = (engines or {}).get(spec) or engine_for(spec)
    dates = timeline_dates(engine.dataset.events, start, end, step, force=force)
    if scheduler is None and workers is None and not chunks:  # one run here, progress date by date
        rows = date_rows(engine, params, dates, thresholds, progress=progress)
        return assemble(engine, params, dates, thresholds, step, [rows],
                        {"scheduler": "in-process", "runs": 1, "incremental": True})
    runs = date_chunks(dates, chunks or 2 * (workers or 2))
    tasks = [Task(f"timeline {run[0]}..{run[-1]}", spec, _timeline_chunk, (params, run, thresholds), len(run))
             for run in runs]
    results = run_tasks(tasks, engines=engines, scheduler=scheduler, workers=workers, progress=progress)
    execution = {"scheduler": scheduler or (f"LocalCluster of {workers} workers" if workers else "in-process"),
                 "runs": len(tasks), "incremental": True}
    return assemble(engine, params, dates, thresholds, step, results, execution)


def _coverage_task(engine: Engine, params: AccessParams, thresholds: tuple[float, ...],
                   scenario_path: str | None) -> pd.DataFrame:
    if scenario_path is None:
        table = coverage(engine, params, thresholds).summary
    else:
        change = read_scenario(Path(scenario_path), engine.dataset)
        table = scenario_delta(engine, change, params, thresholds).summary
    return table


def sweep(specs: Sequence[DatasetSpec], params: AccessParams, dates: Sequence[str], scenarios: Sequence[str] = (),
          thresholds: Sequence[float] = DEFAULT_THRESHOLDS, *, engines: Mapping[DatasetSpec, Engine] | None = None,
          scheduler: str | None = None, workers: int | None = None,
          progress: TaskProgress | None = None) -> pd.DataFrame:
    """Coverage (or, per scenario file, the scenario's delta) for every dataset x scenario x date, as one
    table with `dataset`, `scenario` and `as_of` first, in that order of loops."""
    thresholds = _thresholds(thresholds)
    if not specs or not dates:
        raise ValueError("a sweep needs at least one dataset and one date")
    for spec in specs:  # bad scenario files fail here, before any work, each naming its problems
        for path in scenarios:
            read_scenario(Path(path), ((engines or {}).get(spec) or engine_for(spec)).dataset)
    tasks, keys = [], []
    for spec in specs:
        for path in list(scenarios) or [None]:
            for date in dates:
                name = " / ".join(filter(None, [spec.label, Path(path).name if path else None, date]))
                tasks.append(Task(name, spec, _coverage_task, (replace(params, as_of=date), thresholds, path)))
                keys.append({"dataset": spec.label, "scenario": Path(path).stem if path else "", "as_of": date})
    results = run_tasks(tasks, engines=engines, scheduler=scheduler, workers=workers, progress=progress)
    return pd.concat([table.assign(**key) for table, key in zip(results, keys)], ignore_index=True)[
        ["dataset", "scenario", "as_of"] + list(results[0].columns)]
