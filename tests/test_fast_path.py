"""The fast path (api/fast.py) answers exactly what the routes and middleware answer: the same status, headers and
body (but the time stamp) for an item, a page, HEAD, a 304, gzip, CORS and licence-restricted rows, and leaves
everything else (unknown parameters, HTML, tokens) to the app."""
from __future__ import annotations

import gzip
import json
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.fast import FastFeatures

from .conftest import TOKEN
from .test_api import make_acled_toy

ORIGIN = {"Origin": "https://planner.example"}
GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


class Pair:
    """The same data served twice: with the fast path (as deployed) and without it (the routes and middleware only)."""

    def __init__(self, root, store_folder):
        self.fast = TestClient(create_app(root, tokens=[TOKEN], store=store_folder / "fast.sqlite"))
        general = create_app(root, tokens=[TOKEN], store=store_folder / "general.sqlite")
        general.user_middleware = [m for m in general.user_middleware if m.cls is not FastFeatures]
        self.general = TestClient(general)
        self.answered: list[bool] = []

    def both(self, method: str, url: str, headers: dict | None = None):
        """(fast answer, general answer, whether the fast path answered itself), the fast path's snapshot prepared."""
        self.fast.request(method, url, headers=headers)  # prepares the snapshot the fast path needs
        fast = self.fast.request(method, url, headers=headers)
        return fast, self.general.request(method, url, headers=headers), self.answered[-1]


@pytest.fixture
def spy(monkeypatch):
    """Records, for every request the fast path sees, whether it answered it (True) or passed it on (False)."""
    seen: list[bool] = []
    answer = FastFeatures.answer

    def recording(self, scope):
        result = answer(self, scope)
        seen.append(result is not None)
        return result
    monkeypatch.setattr(FastFeatures, "answer", recording)
    return seen


@pytest.fixture(scope="module")
def embedded(dataset, tmp_path_factory):
    return Pair(dataset.root, tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="module")
def acled(tmp_path_factory):
    """A dataset whose incidents come from ACLED, whose licence forbids passing raw rows on (anonymous callers get
    per-cell aggregates)."""
    folder = make_acled_toy(tmp_path_factory.mktemp("acled"))
    return Pair(folder, folder)


def unstamped(body: bytes) -> bytes:
    """A page's bytes without its closing `timeStamp` (the time it was sent)."""
    return re.sub(rb',"timeStamp":"[0-9TZ:-]+"}$', b"}", body)


def raw_body(client: TestClient, url: str, headers: dict) -> bytes:
    """The body as sent (still gzipped when it was)."""
    with client.stream("GET", url, headers=headers) as response:
        return b"".join(response.iter_raw())


def same(fast, general) -> None:
    assert fast.status_code == general.status_code
    assert sorted(fast.headers.multi_items()) == sorted(general.headers.multi_items())
    assert unstamped(fast.content) == unstamped(general.content)


@pytest.mark.parametrize("headers", [{}, GZIP, PLAIN, ORIGIN, {**GZIP, **ORIGIN}, {"Accept": "application/geo+json"}])
@pytest.mark.parametrize("url", ["/collections/courts/items/ml-tgi-gao", "/collections/prisons/items?limit=5&offset=2",
                                 "/collections/courts/items?limit=61", "/collections/courts/items",
                                 "/collections/incidents/items/MLISYN000001", "/collections/incidents/items?limit=3"])
def test_fast_answers_equal_the_routes(embedded, spy, url, headers):
    embedded.answered = spy
    fast, general, answered = embedded.both("GET", url, headers)
    assert answered and fast.status_code == 200
    same(fast, general)


def test_gzip_and_cors_headers_are_the_middlewares(embedded, spy):
    embedded.answered = spy
    court = "/collections/courts/items/ml-tgi-gao"
    fast, general, answered = embedded.both("GET", court, {**GZIP, **ORIGIN})
    assert answered
    assert fast.headers["content-encoding"] == "gzip" and fast.headers["vary"] == "Accept, Accept-Encoding, Origin"
    assert fast.headers["access-control-allow-origin"] == "*" and fast.headers["access-control-expose-headers"] == "ETag"
    assert re.fullmatch(r'"ml-tgi-gao\.r0\.[0-9a-f]{8}\.\d{8}"', fast.headers["etag"])
    sent = raw_body(embedded.fast, court, GZIP)
    assert sent == raw_body(embedded.general, court, GZIP)  # the same gzip stream, byte for byte
    assert json.loads(gzip.decompress(sent))["id"] == "ml-tgi-gao"
    page = "/collections/courts/items?limit=57"
    sent = raw_body(embedded.fast, page, GZIP)
    assert int(embedded.fast.get(page, headers=GZIP).headers["content-length"]) == len(sent)
    body = json.loads(gzip.decompress(sent))
    assert body["numberReturned"] == 56 and body["links"][0]["href"].endswith("limit=57&offset=0&f=json")
    assert not any(f.headers.get("access-control-allow-origin") for f in (embedded.fast.get(court), embedded.fast.get(page)))


def test_head_and_not_modified(embedded, spy):
    embedded.answered = spy
    for url in ("/collections/courts/items/ml-tgi-gao", "/collections/courts/items?limit=10"):
        fast, general, answered = embedded.both("HEAD", url, GZIP)
        assert answered and fast.content == b"" and general.content == b""
        same(fast, general)
        get = embedded.fast.get(url, headers=GZIP)
        assert fast.headers["content-length"] == get.headers["content-length"] == str(len(raw_body(embedded.fast, url, GZIP)))
        fast, general, answered = embedded.both("GET", url, {"If-None-Match": get.headers["etag"], **ORIGIN})
        assert answered and fast.status_code == 304 and fast.content == b""
        same(fast, general)


@pytest.mark.parametrize("url, headers, status", [
    ("/collections/courts/items?limit=5&colour=red", {}, 400),            # unknown parameter: the routes' error
    ("/collections/courts/items?limit=0", {}, 400),                       # below the minimum: the routes' validation
    ("/collections/courts/items?limit=5&limit=6", {}, 200),
    ("/collections/courts/items/ml-tgi-gao?f=html", {}, 200),             # HTML
    ("/collections/courts/items", {"Accept": "text/html"}, 200),
    ("/collections/courts/items?limit=05", {}, 200),
    ("/collections/courts/items/no-such-court", {}, 404),
    ("/collections/rivers/items", {}, 404),
    ("/collections/courts/items?status=closed", {}, 200),
    ("/collections/courts/items/ml-tgi-gao", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("/collections/courts/items/ml-tgi-gao", {"Authorization": "Bearer wrong"}, 403),
])
def test_what_the_fast_path_passes_on(embedded, spy, url, headers, status):
    embedded.answered = spy
    fast, general, answered = embedded.both("GET", url, headers)
    assert not answered and fast.status_code == status
    if status == 400:
        assert "colour" in fast.json()["detail"] or "limit" in fast.json()["detail"]
    same(fast, general)


def test_licence_restricted_rows_stay_aggregated_for_anonymous_callers(acled, spy):
    acled.answered = spy
    fast, general, answered = acled.both("GET", "/collections/incidents/items?limit=1000", GZIP)
    assert answered
    same(fast, general)
    body = fast.json()
    assert {f["properties"]["kind"] for f in body["features"]} == {"aggregate"} and "ACLED" in body["attribution"]
    assert sum(f["properties"]["incidents"] for f in body["features"]) == 30 and "Group 3" not in fast.text
    cell = body["features"][0]["id"]
    fast, general, answered = acled.both("GET", f"/collections/incidents/items/{cell}")
    assert answered and fast.json()["properties"]["kind"] == "aggregate"
    same(fast, general)
    fast, general, answered = acled.both("GET", "/collections/incidents/items/MLI3")  # a raw row: not for anonymous
    assert not answered and fast.status_code == 404
    raw = acled.fast.get("/collections/incidents/items?limit=1000", headers={"Authorization": f"Bearer {TOKEN}"})
    assert spy[-1] is False and raw.json()["numberMatched"] == 30


def test_a_write_is_seen_by_the_next_fast_answer(dataset, tmp_path, spy):
    client = TestClient(create_app(dataset.root, tokens=[TOKEN], store=tmp_path / "store.sqlite"))
    url = "/collections/courts/items/ml-tgi-gao"
    client.get(url)
    before = client.get(url)
    assert spy[-1] and before.json()["properties"]["status"] != "closed"
    changed = client.patch(url, json={"status": "closed", "source": "test"},
                           headers={"Authorization": f"Bearer {TOKEN}", "If-Match": before.headers["etag"]})
    assert changed.status_code == 200
    after = client.get(url)
    assert after.json()["properties"]["status"] == "closed" and after.headers["etag"] != before.headers["etag"]
    page = client.get("/collections/courts/items?limit=100")
    assert {f["properties"]["status"] for f in page.json()["features"] if f["id"] == "ml-tgi-gao"} == {"closed"}
