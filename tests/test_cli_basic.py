"""The CLI answers --help / --version for the app and every subcommand, and fails cleanly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rnapredict import __version__
from rnapredict.cli import app

runner = CliRunner()
COMMANDS = ("fold", "minimize", "score", "export")


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"rnapredict {__version__}"


def test_top_level_help_lists_every_command():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in COMMANDS:
        assert cmd in r.output
    assert "--version" in r.output and "--debug" in r.output


def test_no_arguments_shows_help_not_traceback():
    r = runner.invoke(app, [])
    assert "Usage" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("cmd", COMMANDS)
def test_subcommand_help(cmd):
    r = runner.invoke(app, [cmd, "--help"])
    assert r.exit_code == 0, r.output
    assert f"rnapredict {cmd}" in r.output
    command = next(c for c in app.registered_commands if c.name == cmd)
    doc = (command.callback.__doc__ or "").strip()
    assert len(doc) > 10  # a real description


def test_unknown_command_and_option_are_usage_errors():
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2
    assert runner.invoke(app, ["export", "--no-such-option"]).exit_code == 2


def test_export_help_names_every_format():
    r = runner.invoke(app, ["export", "--help"], terminal_width=200)
    for fmt in ("pdb", "cif", "c1-csv", "dot-bracket", "fasta", "--split-models", "--merge"):
        assert fmt in r.output


def test_console_script_and_module_entry_points():
    r = subprocess.run(
        [sys.executable, "-m", "rnapredict", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.strip() == f"rnapredict {__version__}"


def test_debug_flag_adds_the_traceback_and_keeps_the_exit_code(tmp_path):
    args = ["export", str(tmp_path / "none.pdb"), "--to", "cif", "-o", str(tmp_path / "o.cif")]
    quiet = runner.invoke(app, args)
    assert quiet.exit_code == 2 and "none.pdb: no such file" in quiet.output
    assert len(quiet.output.strip().splitlines()) == 1 and quiet.exception.__class__ is SystemExit
    loud = runner.invoke(app, ["--debug", *args])
    assert loud.exit_code == 2, loud.output  # --debug must not change exit codes
    assert "Traceback" in loud.output and "InputError" in loud.output
