"""The README's promises: CI runs its test command verbatim, and its commands name real subcommands."""
from __future__ import annotations

import re

from click.testing import CliRunner

from geo_justice.cli import main

from .conftest import ROOT


def readme_commands() -> list[str]:
    return re.findall(r"```\n(python3 -m venv .*)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))


def test_ci_runs_the_readme_test_command():
    run_command, test_command = readme_commands()[:2]
    assert "pytest" in test_command and "geo-justice" in run_command
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_the_readme_names_exists():
    names = set(re.findall(r"`geo-justice ([a-z]+)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert names and names <= set(main.commands)
    for name in names:
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0
