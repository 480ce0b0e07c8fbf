"""`make run` and `make test` on a fresh machine: the first one installs for minutes, and
says so before it starts."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_install_says_what_it_does_and_how_long_before_it_starts(tmp_path):
    """Run the install step for real in a fresh virtualenv folder whose python does
    nothing: the message comes first, before the (here instant) pip commands."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\nexit 0\n")
    python.chmod(0o755)
    done = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MAKEFLAGS": ""},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first_pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    said = " ".join(lines[:first_pip])
    assert "Installing" in said and "about 2 minutes" in said and "no output" in said
    assert lines[-1] == "Installed."
    assert (venv / ".installed").exists()
