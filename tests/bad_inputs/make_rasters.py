"""Writes the population_*.tif bad inputs (binary, so made by this script; the text files here are written by hand).

Run from this folder: python make_rasters.py. Each raster is 4 x 4 cells of 0.1 degree, 10 persons per cell unless said.
"""
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

HERE = Path(__file__).parent
GAO = from_origin(-0.2, 16.4, 0.1, 0.1)  # around Gao, inside the study area


def write(name: str, values: np.ndarray, *, transform=GAO, crs: str | None = "EPSG:4326", nodata: float | None = None) -> Path:
    path = HERE / name
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype=values.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(values, 1)
    return path


def main() -> None:
    tens = np.full((4, 4), 10.0, dtype="float32")
    write("population_outside_study_area.tif", tens, transform=from_origin(2.2, 48.9, 0.1, 0.1))  # Paris
    write("population_all_nodata.tif", np.full((4, 4), -99999.0, dtype="float32"), nodata=-99999.0)
    write("population_all_zero.tif", np.zeros((4, 4), dtype="float32"))
    negative = tens.copy()
    negative[1, 2] = -3.0
    write("population_negative_cell.tif", negative)
    write("population_no_crs.tif", tens, crs=None)
    big = write("population_truncated.tif", np.arange(64 * 64, dtype="float32").reshape(64, 64))
    data = big.read_bytes()
    big.write_bytes(data[: len(data) // 2])  # cut in the middle of the pixel data: the header still reads
    (HERE / "population_not_a_raster.tif").write_text("persons per cell: see the attached spreadsheet\n")


if __name__ == "__main__":
    main()
