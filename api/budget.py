"""Budgets: every request states its cost before any work starts, and is refused when over the caller's budget.

Costs are counted in grid cells (from the resolution and the study area), siting candidates, solver seconds
and body bytes. A request over the caller's budget gets 403 naming the parameter and the limit, and saying
whether a bearer token would allow it (413 for bodies). Both budgets are set by the operator (`GEO_JUSTICE_BUDGET`,
`GEO_JUSTICE_TOKEN_BUDGET`: comma-separated name=value, e.g. `cells=8000000,solver_seconds=60`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from fastapi import HTTPException, Request

from .deps import caller

ANONYMOUS_ENV = "GEO_JUSTICE_BUDGET"
TOKEN_ENV = "GEO_JUSTICE_TOKEN_BUDGET"


@dataclass(frozen=True)
class Budget:
    """The most one request may cost. Defaults are sized for a 2-core server (README, HTTP service)."""

    cells: int = 4_000_000          # grid cells of one analysis (Mali at 1 km: 3.1 M; at 500 m: 12.2 M)
    candidates: int = 400           # siting candidates (each one a travel-time search)
    solver_seconds: float = 10.0    # route solver time limit
    stops: int = 60                 # route stops
    body_bytes: int = 20 * 1024 * 1024


ANONYMOUS = Budget()
TOKEN = Budget(cells=50_000_000, candidates=5_000, solver_seconds=600.0, stops=300, body_bytes=20 * 1024 * 1024)


def budget_from(text: str | None, default: Budget) -> Budget:
    """`default` with the 'name=value,...' overrides of `text`; ValueError naming an unknown or bad entry."""
    if not text:
        return default
    kinds = {f.name: f.type for f in fields(Budget)}
    values = {}
    for entry in text.split(","):
        name, _, value = entry.partition("=")
        name = name.strip()
        if name not in kinds:
            raise ValueError(f"budget {entry!r}: unknown name {name!r}; names: {', '.join(kinds)}")
        try:
            number = float(value) if kinds[name] == "float" else int(value)
        except ValueError:
            raise ValueError(f"budget {entry!r}: {value!r} is not a number") from None
        if not 0 < number < float("inf"):
            raise ValueError(f"budget {entry!r}: must be positive and finite")
        values[name] = number
    return replace(default, **values)


def budgets_from_env() -> tuple[Budget, Budget]:
    """The (anonymous, token) budgets: defaults overridden by the environment."""
    return budget_from(os.environ.get(ANONYMOUS_ENV), ANONYMOUS), budget_from(os.environ.get(TOKEN_ENV), TOKEN)


def charge(request: Request, resource: str, cost: float, parameter: str) -> None:
    """Refuse the request (403) before it runs when `cost` of `resource` is over the caller's budget.

    `parameter` names what the client sets to change the cost; the detail says when a token would allow it.
    """
    anonymous, token = request.app.state.budgets
    has_token = caller(request) is not None
    limit = getattr(token if has_token else anonymous, resource)
    if cost <= limit:
        return
    unit = resource.replace("_", " ")
    what = f"{parameter} asks for {cost:,.0f} {unit}, over the limit of {limit:,.0f} {unit}"
    if not has_token and cost <= getattr(token, resource):
        raise HTTPException(403, f"{what} for anonymous requests; a bearer token allows up to {getattr(token, resource):,.0f}")
    raise HTTPException(403, f"{what} of this service (its operator sets the budget)")


def charge_cells(request: Request, engine, resolution: float) -> None:
    """Charge the cells of the study-area grid at `resolution` metres (checked to be 10 to 100,000 first)."""
    if not 10 <= resolution <= 100_000:
        raise ValueError(f"parameter 'resolution': must be between 10 and 100000 metres, not {resolution:g}")
    rows, cols = engine.grid(resolution).shape
    charge(request, "cells", rows * cols, f"resolution={resolution:g}")
