"""Every file of tests/bad_inputs is rejected by `layers validate` with exit 1 and the message its table states."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo_justice.cli import main

HERE = Path(__file__).parent / "bad_inputs"
TABLE = list(csv.DictReader((HERE / "expected.csv").open(encoding="utf-8")))
NOT_INPUTS = {"expected.csv", "dataset.json", "make_rasters.py", "README.md", "area"}


@pytest.mark.parametrize("row", TABLE, ids=[row["file"] for row in TABLE])
def test_bad_input_is_rejected_with_its_message(row):
    result = CliRunner().invoke(main, ["layers", "validate", str(HERE / row["file"]), "--kind", row["kind"]])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    count = int(row["problems"])
    assert f"{count} problem{'s' if count != 1 else ''} found" in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(f"  - {row['file']}: ")]
    assert len(lines) == count, result.output
    assert any(row["expected"] in line for line in lines), result.output


def test_every_file_is_in_the_table_and_most_name_a_row_and_a_field():
    files = {p.name for p in HERE.iterdir()} - NOT_INPUTS
    assert files == {row["file"] for row in TABLE}
    located = [row for row in TABLE if re.search(r"(line|feature|band) \d+", row["expected"])
               and ("field '" in row["expected"] or "band" in row["expected"])]
    assert len(located) >= 40
