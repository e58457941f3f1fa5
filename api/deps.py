"""Dependencies every endpoint shares: one committed snapshot of the data per request, the engine the caller
may use, the store and the bearer check (declared as an HTTP bearer security scheme in the OpenAPI)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo_justice.access import Engine
from geo_justice.cache import ResultCache
from geo_justice.licence_floors import public_dataset
from layers.catalog import Dataset
from layers.store import Snapshot as StoreSnapshot
from layers.store import Store

from .http import bearer

#: Declares the scheme in the OpenAPI; the check itself is `bearer` (401 malformed, 403 unknown token).
BEARER_SCHEME = HTTPBearer(auto_error=False, description="An operator's token: writes, raw licensed rows, larger budgets")


@dataclass(frozen=True)
class Snapshot:
    """One committed version of the data: the engines answering on it and the store revision it holds."""

    engine: Engine                      # everything, for token holders
    public: Engine                      # licence floors applied to rows whose source forbids passing them on
    store: StoreSnapshot
    base_tag: str                       # short hash of the base dataset's version

    def facility_etag(self, facility_id: str, day: date) -> str:
        """A facility's ETag: its revision in the store (ordered), the base data and the day deciding its status."""
        return f'"{facility_id}.r{self.store.facility_revisions.get(facility_id, 0)}.{self.base_tag}.{day:%Y%m%d}"'


def make_snapshot(base: Dataset, store: StoreSnapshot, cache: ResultCache) -> Snapshot:
    data = store.apply(base)
    return Snapshot(Engine(data, cache=cache), Engine(public_dataset(data), cache=cache), store,
                    hashlib.sha256(base.version.encode()).hexdigest()[:8])


def snapshot(request: Request) -> Snapshot:
    """The newest committed snapshot, taken once per request (every part of the answer comes from it)."""
    if hasattr(request.state, "snapshot"):
        return request.state.snapshot
    state = request.app.state
    revision = state.store.revision()
    with state.lock:
        if revision > state.snapshot.store.revision:
            taken = state.store.snapshot()
            if taken.revision > state.snapshot.store.revision:
                state.snapshot = make_snapshot(state.base, taken, state.snapshot.engine.cache)
        request.state.snapshot = state.snapshot
    return request.state.snapshot


def refresh(request: Request) -> Snapshot:
    """A snapshot at least as new as the last commit (after a write), replacing the request's."""
    if hasattr(request.state, "snapshot"):
        del request.state.snapshot
    return snapshot(request)


def caller(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_SCHEME)] = None) -> str | None:
    """The name of the caller's token; None when anonymous (401 malformed, 403 unknown token)."""
    if not hasattr(request.state, "caller"):
        request.state.caller = bearer(request)
    return request.state.caller


def engine(snap: Annotated[Snapshot, Depends(snapshot)], who: Annotated[str | None, Depends(caller)]) -> Engine:
    """The engine this caller may use: anonymous callers see licence-restricted rows only above the floors."""
    return snap.engine if who is not None else snap.public


def current_engine(request: Request) -> Engine:
    """`engine` outside dependency injection (helpers given only the request)."""
    return engine(snapshot(request), caller(request))


def store(request: Request) -> Store:
    return request.app.state.store


EngineDep = Annotated[Engine, Depends(engine)]
StoreDep = Annotated[Store, Depends(store)]
CallerDep = Annotated[str | None, Depends(caller)]


def require_token(who: CallerDep) -> str:
    """The caller's token name; 401 when the request carries none."""
    if who is None:
        raise HTTPException(401, "this request needs a bearer token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return who


TokenDep = Annotated[str, Depends(require_token)]
