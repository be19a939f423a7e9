"""The same sweep on a Dask cluster gives the same bytes as on this machine.

The test starts its own ``distributed.LocalCluster`` (two worker processes, one thread each,
on 127.0.0.1, no dashboard) and closes it afterwards; the workers import ``coach`` from
this checkout through the inherited ``PYTHONPATH``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.cli import main

distributed = pytest.importorskip("distributed", reason="the distributed extra: pip install '.[distributed]'")

GRID = ["--vary", "habits.posts_per_day=1,3,6", "--vary", "habits.reply_rate=0.1,0.9", "--replicates", "3", "--days", "15"]  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


def sweep(capsys, *args: str) -> str:
    code = main(["sweep", "conversationalist", *GRID, *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_dask_csv_and_json_are_identical_to_local(cluster, capsys):
    for fmt in ("csv", "json"):
        local = sweep(capsys, "--format", fmt)
        remote = sweep(capsys, "--format", fmt, "--scheduler", cluster.scheduler_address)
        assert remote == local
    assert len(json.loads(local)["cells"]) == 6


def test_coach_scheduler_variable_and_resume_on_the_cluster(cluster, capsys, monkeypatch, tmp_path: Path):
    local = tmp_path / "local.csv"
    sweep(capsys, "--format", "csv", "--out", str(local))
    monkeypatch.setenv("COACH_SCHEDULER", cluster.scheduler_address)
    remote = tmp_path / "remote.csv"
    lines = local.read_bytes().splitlines(keepends=True)
    remote.write_bytes(b"".join(lines[: 1 + 2 * 3]))  # two cells done locally, then interrupted
    (tmp_path / "remote.csv.sweep.jsonl").write_bytes((tmp_path / "local.csv.sweep.jsonl").read_bytes())
    code = main(["sweep", "conversationalist", *GRID, "--format", "csv", "--out", str(remote)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "2 of 6 cells are already there" in err and cluster.scheduler_address in err
    assert remote.read_bytes() == local.read_bytes()
