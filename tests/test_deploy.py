"""deploy/ against the code: every `geo-justice` command it runs parses with the real command line, and nginx
sends, for the static pyramid, the bytes and cache headers the service sends for the same tiles (a real nginx,
when the machine has one; .ci/run installs it)."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import click
import httpx
import mercantile
import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.licence_floors import public_dataset
from geo_justice.pyramid import export_pyramid
from geo_justice.tiles import EMPTY_PNG, TileStyle

from .conftest import ROOT, free_port, start_server

DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "geo-justice.conf"


def invocations(script: str) -> list[list[str]]:
    """The argument lists of each `geo-justice` run in a shell script or command line (the program first)."""
    found = []
    for segment in re.split(r"&&|\|\||[;|\n]", script.replace("\\\n", " ")):
        words = shlex.split(segment, comments=True)
        while words and (re.fullmatch(r"\w+=.*", words[0]) or words[0] in ("do", "then", "else", "exec")):
            words = words[1:]
        if words and Path(words[0]).name == "geo-justice":
            found.append(words[1:])
    return found


def deploy_commands() -> list[tuple[str, list[str]]]:
    """Every `geo-justice` command line deploy/ runs: systemd Exec lines, compose commands, the Dockerfile's CMD,
    shell scripts and the README's code blocks."""
    commands = []
    for path in sorted(DEPLOY.rglob("*")):
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        name = str(path.relative_to(DEPLOY))
        if path.suffix in (".service", ".timer"):
            scripts = re.findall(r"^Exec\w*=(.*)$", text, re.M)
        elif path.suffix == ".yaml":
            scripts = []
            for service in yaml.safe_load(text)["services"].values():
                for key in ("entrypoint", "command"):
                    value = service.get(key)
                    if isinstance(value, list):
                        scripts.append(value[2] if value[:2] == ["sh", "-c"] else shlex.join(value))
                    elif value:
                        scripts.append(value)
        elif path.name == "Dockerfile":
            scripts = [shlex.join(json.loads(v)) if v.startswith("[") else v
                       for v in re.findall(r"^(?:CMD|ENTRYPOINT|RUN) (.*)$", text, re.M)]
        elif path.suffix == ".md":
            scripts = re.findall(r"```(?:sh|shell|bash)\n(.*?)```", text, re.S)  # shell blocks only
        elif path.suffix == ".sh":
            scripts = [text]
        else:
            continue
        commands += [(name, args) for script in scripts for args in invocations(script)]
    return commands


COMMANDS = deploy_commands()


def test_deploy_runs_the_service_and_the_pyramid():
    used = {tuple(args[:2]) if args[0] == "tiles" else (args[0],) for _, args in COMMANDS}
    assert {("serve",), ("tiles", "export")} <= used
    assert len({name for name, _ in COMMANDS}) >= 4  # the units, compose, the Dockerfile, the README


@pytest.mark.parametrize("where, args", COMMANDS, ids=[f"{n}:{' '.join(a[:2])}" for n, a in COMMANDS])
def test_every_deploy_command_parses_with_the_real_cli(where, args):
    context = main.make_context("geo-justice", list(args), resilient_parsing=False)
    command, words = main, list(args)
    with context:
        while isinstance(command, click.Group):
            name, command, words = command.resolve_command(context, words)
            assert command is not None, f"{where}: no command {name!r}"
            context = command.make_context(name, words, parent=context)
            words = [*context.protected_args, *context.args] if isinstance(command, click.Group) else []


def nginx_headers(location: str) -> dict[str, str]:
    """The add_header lines of an nginx location block of the deploy site (by its exact opening)."""
    text = NGINX_SITE.read_text(encoding="utf-8")
    start = text.index(f"location {location} {{")
    block = text[start:text.index("\n    }", start)]
    return dict(re.findall(r'add_header ([\w-]+) "([^"]*)"', block))


def test_nginx_sends_the_service_cache_headers(dataset, tmp_path):
    client = TestClient(create_app(dataset.root, store=tmp_path / "store.sqlite"))
    spec = client.get("/tiles/courts/tilejson.json")
    tile = client.get(spec.json()["tiles"][0].format(z=5, x=15, y=14))
    assert tile.status_code == 200
    static_tile = nginx_headers(r"~ ^/static-tiles/(?<version>[^/]+)/[a-z]+/[0-9]+/[0-9]+/[0-9]+\.png$")
    assert static_tile["Cache-Control"] == tile.headers["cache-control"]
    assert nginx_headers("/static-tiles/")["Cache-Control"] == tile.headers["cache-control"]
    assert nginx_headers("= /static-tiles/latest.json")["Cache-Control"] == spec.headers["cache-control"]
    assert static_tile["Access-Control-Allow-Origin"] == "*" == client.get(
        spec.json()["tiles"][0].format(z=5, x=15, y=14), headers={"Origin": "https://news.example"}).headers["access-control-allow-origin"]


@pytest.fixture(scope="module")
def behind_nginx(dataset, tmp_path_factory):
    """The deploy site under a real nginx, in front of `geo-justice serve` and a pyramid exported beside it."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx is not installed (.ci/run installs it)")
    work = tmp_path_factory.mktemp("nginx")
    url, process = start_server(dataset.root, work / "store.sqlite")
    engine = Engine(public_dataset(dataset))
    styles = [TileStyle(layer, AccessParams(resolution_m=5000.0)) for layer in ("traveltime", "courts")]
    result = export_pyramid(engine, styles, [4, 5], work / "srv" / "static-tiles", pmtiles=True)
    port = free_port()
    site = NGINX_SITE.read_text(encoding="utf-8")
    for old, new in (("listen 80;", f"listen 127.0.0.1:{port};"), ("server 127.0.0.1:8000;", f"server {url[7:]};"),
                     ("/var/cache/nginx/geo-justice", str(work / "cache"))):
        assert site.count(old) == 1, old
        site = site.replace(old, new)
    assert site.count("root /srv/geo-justice;") == 3
    site = site.replace("root /srv/geo-justice;", f"root {work / 'srv'};")
    (work / "site.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (work / "nginx.conf").write_text(
        f"daemon off; master_process off; pid {work / 'nginx.pid'}; error_log {work / 'error.log'};\n"
        f"events {{}}\nhttp {{ include /etc/nginx/mime.types; access_log off; {temp} include {work / 'site.conf'}; }}\n")
    nginx = subprocess.Popen([binary, "-p", str(work), "-c", str(work / "nginx.conf")])
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert nginx.poll() is None, (work / "error.log").read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", result
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        process.terminate()
        process.wait(timeout=10)


def test_nginx_serves_the_pyramid_as_the_service_serves_its_tiles(behind_nginx):
    base, result = behind_nginx
    with httpx.Client(base_url=base, timeout=120) as http:
        pointer = http.get("/static-tiles/latest.json")
        assert pointer.json()["version"] == result.version
        tilejson = http.get("/tiles/traveltime/tilejson.json?resolution=5000")  # through nginx, from the service
        assert pointer.headers["cache-control"] == tilejson.headers["cache-control"] == "public, max-age=60"
        style = result.manifest["layers"]["traveltime"]["style"]
        assert f"v={style}" in tilejson.json()["tiles"][0]
        written = sorted((result.folder / "traveltime").rglob("*.png"))
        tiles = [(int(p.parent.parent.name), int(p.parent.name), int(p.stem)) for p in written[:3]]
        every = {(t.z, t.x, t.y) for t in mercantile.tiles(*result.manifest["bounds"], zooms=[4, 5])}
        skipped = sorted(every - {(int(p.parent.parent.name), int(p.parent.name), int(p.stem)) for p in written})
        assert skipped, "some tile of the range draws nothing"
        for z, x, y in tiles + skipped[:2]:
            static = http.get(f"/static-tiles/{result.version}/traveltime/{z}/{x}/{y}.png")
            served = http.get(f"/tiles/traveltime/{z}/{x}/{y}.png?resolution=5000&v={style}")
            assert static.status_code == served.status_code == 200
            assert static.content == served.content and static.headers["content-type"] == "image/png"
            assert static.headers["cache-control"] == served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert static.headers["access-control-allow-origin"] == "*"
        assert http.get(f"/static-tiles/{result.version}/traveltime/{skipped[0][0]}/{skipped[0][1]}/{skipped[0][2]}.png").content == EMPTY_PNG
        again = http.get(f"/tiles/traveltime/{tiles[0][0]}/{tiles[0][1]}/{tiles[0][2]}.png?resolution=5000&v={style}")
        assert again.headers["x-cache-status"] == "HIT"  # nginx keeps the immutable service tiles
        archive = http.get(f"/static-tiles/{result.version}/traveltime.pmtiles", headers={"Range": "bytes=0-126"})
        assert archive.status_code == 206 and archive.content[:7] == b"PMTiles"  # read by byte ranges
        assert archive.headers["cache-control"] == "public, max-age=31536000, immutable"
        preflight = http.options(f"/static-tiles/{result.version}/traveltime.pmtiles",
                                 headers={"Origin": "https://news.example", "Access-Control-Request-Headers": "range"})
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-headers"] == "Range"
        assert http.get(f"/static-tiles/.{result.version}.tmp/manifest.json").status_code == 404
