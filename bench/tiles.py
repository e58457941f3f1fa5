"""Benchmark (run by hand): travel-time tiles from geo-justice against TiTiler serving the same surface.

    pip install -e '.[bench]' && python bench/tiles.py [--zooms 5-9] [--tiles 120]

Computes the travel-time surface of the embedded dataset (1 km, default parameters), writes it as a
cloud-optimised GeoTIFF (the analysis grid, with overviews), starts `geo-justice serve` and a TiTiler
app (titiler.core's TilerFactory) on loopback, and requests the same tile set from both, one request at
a time: a cold pass (each tile's first request) and a warm pass (the same tiles again). Before the cold
pass each service answers one tile outside the set, so that geo-justice has computed its travel time
(TiTiler is given it precomputed) and both have imported and opened what they need. Prints the median
latency per service and pass and the ratio geo-justice / TiTiler.
"""
from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import mercantile
import numpy as np
import rasterio

from geo_justice.access import AccessParams, Engine
from geo_justice.tiles import TileStyle, bounds
from layers.catalog import load_dataset

TITILER_APP = """
import sys, uvicorn
from fastapi import FastAPI
from titiler.core.factory import TilerFactory
app = FastAPI()
app.include_router(TilerFactory().router)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(600):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def write_cog(engine: Engine, params: AccessParams, path: Path) -> None:
    """The travel-time surface (minutes, float32, unreachable as nodata) as a COG on the analysis grid."""
    access = engine.access(params)
    minutes = np.where(np.isfinite(access.minutes), access.minutes, -1).astype("float32")
    profile = {"driver": "COG", "dtype": "float32", "count": 1, "height": access.grid.shape[0],
               "width": access.grid.shape[1], "crs": access.grid.crs, "transform": access.grid.transform,
               "nodata": -1, "compress": "deflate", "blocksize": 512, "overview_resampling": "nearest"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(minutes, 1)


def tile_set(engine: Engine, style: TileStyle, zooms: list[int], count: int, seed: int = 1) -> list[mercantile.Tile]:
    """`count` tiles drawn evenly over the zooms (a fixed random draw inside the study area, away from its
    edges, where TiTiler answers 500 for a tile outside the raster's own bounds)."""
    rng = random.Random(seed)
    per_zoom = max(1, count // len(zooms))
    west, south, east, north = bounds(engine, style)
    chosen = []
    for z in zooms:
        tiles = list(mercantile.tiles(west + 1, south + 1, east - 1, north - 1, zooms=[z]))
        chosen += rng.sample(tiles, min(per_zoom, len(tiles)))
    return chosen


def timed_pass(client: httpx.Client, urls: list[str]) -> list[float]:
    """Milliseconds of each request, in order."""
    out = []
    for url in urls:
        start = time.perf_counter()
        client.get(url).raise_for_status()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zooms", default="5-9", help="zoom range of the tile set")
    parser.add_argument("--tiles", type=int, default=120, help="tiles in the set")
    args = parser.parse_args()
    low, _, high = args.zooms.partition("-")
    zooms = list(range(int(low), int(high or low) + 1))
    params = AccessParams()
    engine = Engine(load_dataset())
    style = TileStyle("traveltime", params)
    tiles = tile_set(engine, style, zooms, args.tiles)
    with tempfile.TemporaryDirectory() as tmp:
        cog = Path(tmp) / "traveltime.tif"
        write_cog(engine, params, cog)
        ours_port, titiler_port = free_port(), free_port()
        servers = [
            subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve", "--port",
                              str(ours_port), "--store", str(Path(tmp) / "store.sqlite")], stdout=subprocess.DEVNULL),
            subprocess.Popen([sys.executable, "-c", TITILER_APP, str(titiler_port)]),
        ]
        try:
            for port in (ours_port, titiler_port):
                wait_for(port)
            ours = [f"http://127.0.0.1:{ours_port}/tiles/traveltime/{t.z}/{t.x}/{t.y}.png" for t in tiles]
            theirs = [f"http://127.0.0.1:{titiler_port}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png?url={cog}"
                      f"&rescale=0,480&colormap_name=rdylgn_r&resampling=nearest" for t in tiles]
            prime = mercantile.tile(-4.0, 17.0, 4)  # not in the set: zooms start above 4 by default
            with httpx.Client(timeout=300) as client:
                start = time.perf_counter()
                client.get(f"http://127.0.0.1:{ours_port}/tiles/traveltime/{prime.z}/{prime.x}/{prime.y}.png").raise_for_status()
                first = time.perf_counter() - start
                client.get(f"http://127.0.0.1:{titiler_port}/tiles/WebMercatorQuad/{prime.z}/{prime.x}/{prime.y}.png"
                           f"?url={cog}&rescale=0,480&colormap_name=rdylgn_r").raise_for_status()
                results = {}
                for name, urls in (("geo-justice", ours), ("TiTiler", theirs)):
                    results[name] = (np.median(timed_pass(client, urls)), np.median(timed_pass(client, urls)))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
    print(f"{len(tiles)} travel-time tiles, zooms {zooms[0]}-{zooms[-1]}, 1 km grid {engine.grid().shape}; "
          f"geo-justice's first tile (computing travel time and the Mercator raster): {first:.1f} s")
    print("| pass | geo-justice median ms | TiTiler median ms | ratio (geo-justice / TiTiler) |")
    print("|---|---:|---:|---:|")
    for index, name in enumerate(("cold", "warm")):
        ours_ms, theirs_ms = results["geo-justice"][index], results["TiTiler"][index]
        print(f"| {name} | {ours_ms:.2f} | {theirs_ms:.2f} | {ours_ms / theirs_ms:.2f} |")


if __name__ == "__main__":
    main()
