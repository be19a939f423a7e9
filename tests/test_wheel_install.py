"""A plain (non-editable) install finds the personas: build a wheel, install it, run it elsewhere.

The wheel is built from a copy of the checkout (so no build/ or egg-info lands in the
worktree), installed with ``--no-deps`` into a fresh venv that sees this interpreter's
packages (``--system-site-packages``: no dependency downloads), and run from a temporary
folder without ``PYTHONPATH``, so only the installed package can answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "coach", "scenarios"]


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SHIPPED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", src, cwd=tmp, env=env)
    wheel = next((tmp / "dist").glob("cadence_coach-*.whl"))
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=tmp, env=env)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel, cwd=tmp, env=env)  # fmt: skip
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return wheel, venv, env | {"COACH_DATA_DIR": str(tmp / "data")}


def test_the_wheel_carries_the_personas_and_every_yaml_under_coach(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for persona in (ROOT / "scenarios").glob("*.yaml"):
        assert f"coach/scenarios/{persona.name}" in names
    for data in ROOT.joinpath("coach").rglob("*.yaml"):  # e.g. the workshop's exercises
        assert data.relative_to(ROOT).as_posix() in names


def test_an_installed_coach_lists_and_runs_personas_from_outside_the_checkout(installed):
    _, venv, env = installed
    elsewhere = venv.parent / "elsewhere"
    where = run(venv / "bin" / "python", "-c", "import coach; print(coach.__file__)", cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    listed = run(venv / "bin" / "coach", "scenarios", cwd=elsewhere, env=env).stdout
    for persona in (ROOT / "scenarios").glob("*.yaml"):
        assert persona.stem in listed
    assert "invalid" not in listed
    out = run(venv / "bin" / "coach", "run", "newcomer", "--replicates", "2", "--days", "5", "--format", "json", cwd=elsewhere, env=env)  # fmt: skip
    assert json.loads(out.stdout)["days"] == 5
    swept = run(venv / "bin" / "coach", "sweep", "newcomer", "--vary", "habits.posts_per_day=1,2", "--replicates", "1", "--days", "3", "--format", "csv", cwd=elsewhere, env=env)  # fmt: skip
    assert len(swept.stdout.splitlines()) == 3
