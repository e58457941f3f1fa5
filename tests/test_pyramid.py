"""Static tile pyramids: the files are what the service serves at the same tile, per data version; PMTiles
read back with the pmtiles reader; an interrupted or failed export leaves nothing behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import mercantile
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.licence_floors import public_dataset
from geo_justice.pyramid import export_pyramid
from geo_justice.tiles import TileStyle

from .conftest import ROOT, TOKEN

RES = 5000.0
LAYERS = ("traveltime", "coverage", "courts")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GAO = mercantile.tile(-0.0447, 16.2717, 6)  # the zoom-6 tile holding Gao's court


@pytest.fixture(scope="module")
def service(dataset, tmp_path_factory):
    """The service on a store of its own, and that store's path (the export reads the same writes)."""
    store = tmp_path_factory.mktemp("store") / "store.sqlite"
    return TestClient(create_app(dataset.root, tokens=[f"clerk:{TOKEN}"], store=store)), store


def export(dataset, store, root, *extra: str):
    args = ["tiles", "export", "--data", str(dataset.root), "--store", str(store), "--resolution", f"{RES:g}",
            "--zoom", "4-6", *[a for layer in LAYERS for a in ("--layer", layer)], "-o", str(root), *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads((root / "latest.json").read_text())


def served(client, layer: str, z: int, x: int, y: int, style: str):
    response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.png?resolution={RES:g}&v={style}")
    assert response.status_code == 200, response.text
    return response


def test_every_exported_tile_is_what_the_service_serves_before_and_after_a_write(service, dataset, tmp_path):
    client, store = service
    root = tmp_path / "site"
    versions = []
    for write in (False, True):
        if write:  # Gao's court closes: a new data version, a new folder, the pointer moves
            response = client.patch("/collections/courts/items/ml-tgi-gao", headers=AUTH,
                                    json={"status": "closed", "as_of": "2023-11-17", "source": "test: court attacked"})
            assert response.status_code == 200, response.text
        pointer = export(dataset, store, root)
        folder = root / pointer["version"]
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["zooms"] == [4, 5, 6] and sorted(manifest["layers"]) == sorted(LAYERS)
        assert "Travel time: modelled" in manifest["layers"]["traveltime"]["attribution"][0]
        assert "Synthetic demo incidents" in pointer["attribution"]["traveltime"]  # the conflict penalty's source
        files = 0
        for layer, entry in manifest["layers"].items():
            tilejson = client.get(f"/tiles/{layer}/tilejson.json?resolution={RES:g}").json()
            assert f"v={entry['style']}" in tilejson["tiles"][0]  # the service's current URL names this style
            assert tilejson["bounds"] == manifest["bounds"]
            for tile in mercantile.tiles(*manifest["bounds"], zooms=manifest["zooms"]):
                path = folder / layer / str(tile.z) / str(tile.x) / f"{tile.y}.png"
                response = served(client, layer, tile.z, tile.x, tile.y, entry["style"])
                assert response.headers["cache-control"] == manifest["cache_control"][f"{pointer['version']}/"]
                # a tile the pyramid skips is the service's transparent tile, which the pyramid holds once
                expected = path.read_bytes() if path.exists() else (folder / manifest["empty_tile"]).read_bytes()
                assert response.content == expected, (layer, tile)
                files += path.exists()
        assert files == manifest["tile_count"] > 0
        assert sum(1 for _ in folder.rglob("*.png")) == files + 1  # and empty.png, nothing else
        versions.append((pointer["version"], folder))
    (old, old_folder), (new, new_folder) = versions
    assert old != new and old_folder.is_dir()  # the old version stays for caches still holding its URLs
    gao = f"courts/{GAO.z}/{GAO.x}/{GAO.y}.png"
    assert (old_folder / gao).read_bytes() != (new_folder / gao).read_bytes()  # the closed court is drawn


def test_pmtiles_archives_read_back_with_the_pmtiles_reader(service, dataset, tmp_path):
    from pmtiles.reader import MmapSource, Reader
    from pmtiles.tile import TileType

    client, store = service
    root = tmp_path / "site"
    pointer = export(dataset, store, root, "--pmtiles")
    folder = root / pointer["version"]
    manifest = json.loads((folder / "manifest.json").read_text())
    for layer in LAYERS:
        with open(root / pointer["pmtiles"][layer], "rb") as handle:
            reader = Reader(MmapSource(handle))
            header, metadata = reader.header(), reader.metadata()
            assert header["tile_type"] == TileType.PNG and (header["min_zoom"], header["max_zoom"]) == (4, 6)
            assert metadata["attribution"] == "; ".join(manifest["layers"][layer]["attribution"])
            assert header["addressed_tiles_count"] == manifest["layers"][layer]["tiles"]
            pngs = sorted((folder / layer).rglob("*.png"))
            for path in pngs[:: max(1, len(pngs) // 5)]:
                z, x, y = int(path.parent.parent.name), int(path.parent.name), int(path.stem)
                assert reader.get(z, x, y) == path.read_bytes()
                assert reader.get(z, x, y) == served(client, layer, z, x, y, manifest["layers"][layer]["style"]).content
            assert reader.get(5, 0, 0) is None  # the Arctic: not in the archive, as not in the folder
    with Image.open(folder / "empty.png") as image:
        assert image.convert("RGBA").getextrema()[3] == (0, 0)
    single = CliRunner().invoke(main, ["tiles", "export", "--data", str(dataset.root), "--store", str(store),
                                       "--resolution", f"{RES:g}", "--zoom", "4-6", "--layer", "courts",
                                       "-o", str(tmp_path / "courts.pmtiles")])
    assert single.exit_code == 0, single.output
    assert (tmp_path / "courts.pmtiles").read_bytes() == (root / pointer["pmtiles"]["courts"]).read_bytes()


def test_a_version_is_written_once(service, dataset, tmp_path):
    _, store = service
    root = tmp_path / "site"
    pointer = export(dataset, store, root)
    manifest = root / pointer["version"] / "manifest.json"
    before = manifest.stat().st_mtime_ns
    again = CliRunner().invoke(main, ["tiles", "export", "--data", str(dataset.root), "--store", str(store),
                                      "--resolution", f"{RES:g}", "--zoom", "4-6", "--layer", "traveltime",
                                      "--layer", "coverage", "--layer", "courts", "-o", str(root)])
    assert again.exit_code == 0 and "already written" in again.output
    assert manifest.stat().st_mtime_ns == before
    other = CliRunner().invoke(main, ["tiles", "export", "--data", str(dataset.root), "--store", str(store),
                                      "--resolution", f"{RES:g}", "--zoom", "4-7", "--layer", "traveltime",
                                      "--layer", "coverage", "--layer", "courts", "-o", str(root)])
    assert other.exit_code == 1 and "exists with zooms 4-6" in other.output


def test_a_failed_export_leaves_no_folder_and_no_pointer(service, tmp_path, monkeypatch):
    import geo_justice.pyramid as pyramid

    client, _ = service
    engine = client.app.state.snapshot.public
    calls = []

    def failing(*args):
        calls.append(args)
        if len(calls) > 40:
            raise OSError("disk full")
        return pyramid.render_tile(*args)
    monkeypatch.setattr(pyramid, "render_tile", failing)
    styles = [TileStyle(layer, AccessParams(resolution_m=RES)) for layer in LAYERS]
    with pytest.raises(OSError, match="disk full"):
        export_pyramid(engine, styles, [4, 5, 6], tmp_path / "site", pmtiles=True)
    assert len(calls) > 40 and list((tmp_path / "site").iterdir()) == []


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_export_leaves_no_partial_output(dataset, tmp_path, sent):
    """Ctrl-C (SIGINT) or a service manager's stop (SIGTERM) mid-export: nothing is left behind. The child takes
    Ctrl-C as from a terminal whatever this process inherited (a job started with `&` by a shell without job control
    ignores SIGINT, and so would a Python started from it)."""
    root = tmp_path / "site"
    live_ctrl_c = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    process = subprocess.Popen([sys.executable, "-c", live_ctrl_c + "from geo_justice.cli import main; main()", "tiles", "export",
                                "--data", str(dataset.root), "--resolution", f"{RES:g}", "--zoom", "4-10",
                                "--layer", "courts", "-o", str(root), "--pmtiles"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(2400):  # until tiles are being written aside (a loaded machine may take a while)
            if root.is_dir() and any(root.glob(".*/*/*/*/*.png")):
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the export wrote no tile within 120 s")
        process.send_signal(sent)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode != 0
    assert list(root.iterdir()) == []  # no version folder, no hidden folder, no pointer


def test_public_tiles_refuse_settings_below_the_licence_floors(dataset, tmp_path):
    acled = replace(dataset, incidents=dataset.incidents.assign(source_dataset="acled"))
    engine = Engine(public_dataset(acled))
    style = TileStyle("risk", AccessParams(resolution_m=RES, conflict=replace(AccessParams().conflict, bandwidth_km=10)))
    with pytest.raises(ValueError, match="--bandwidth 10 is below the licence floor of 25"):
        export_pyramid(engine, [style], [4], tmp_path / "site")
    assert not (tmp_path / "site").exists()
