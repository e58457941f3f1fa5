"""schemathesis drives every operation with a few generated requests, parameters unclamped: no server error and
no answer the OpenAPI document does not describe (status, content type, headers, body)."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.budget import TOKEN, Budget

from .conftest import ROOT

#: The service's budget is small (its operator's choice), the generated parameters are not clamped: a request
#: over the budget is answered 403 at once, one within it is computed, on a grid of 20 km cells or coarser.
SMALL = Budget(cells=10_000, candidates=20, solver_seconds=2, stops=5)
#: A store of this process's own (xdist workers each import this module).
STORE = Path(tempfile.mkdtemp(prefix="fuzz-store-")) / "store.sqlite"
atexit.register(shutil.rmtree, STORE.parent, True)
app = create_app(ROOT / "data", tokens=[], store=STORE, budgets=(SMALL, TOKEN))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
schema.config.phases.coverage.enabled = False  # its hundreds of boundary cases per operation do not fit the time
#: Bodies and parameters whose meaning depends on the data (town names, facility ids such as capacity's
#: `priority`, timeline dates before the first status event): schema-valid is not enough to be served.
DATA_DEPENDENT = {("POST", "/scenarios"), ("POST", "/routes"), ("GET", "/analysis/capacity"), ("GET", "/maps/capacity"),
                  *(("GET", path) for path in ("/analysis/timeline", "/embed/timeline", "/embed/timeline/snippet",
                                               "/maps/timeline"))}


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    data_dependent = (case.operation.method.upper(), case.operation.path) in DATA_DEPENDENT
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if data_dependent else [])
