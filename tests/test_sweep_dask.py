"""The same sweep on a Dask cluster gives the same bytes as on this machine.

The test starts its own ``distributed.LocalCluster`` (two worker processes, one thread each,
on 127.0.0.1, no dashboard) and closes it afterwards; the workers import ``coach`` from
this checkout through the inherited ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
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


@pytest.mark.parametrize("address", ["bogus", "http://127.0.0.1:8786", "tcp://127.0.0.1:99999"])
def test_a_malformed_scheduler_address_is_a_usage_error_before_any_output(address, capsys):
    assert main(["sweep", "conversationalist", *GRID, "--scheduler", address]) == 2
    out = capsys.readouterr()
    assert f"--scheduler {address}: not a scheduler address; allowed: tcp://HOST:PORT" in out.err
    assert out.out == ""  # not even the table's head


def test_a_scheduler_that_refuses_is_named_before_any_output(capsys):
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["sweep", "conversationalist", *GRID, "--scheduler", f"tcp://127.0.0.1:{port}"]) == 1
    out = capsys.readouterr()
    assert "cannot connect to a Dask scheduler there (Connection refused)" in out.err and out.out == ""


def test_something_else_listening_is_not_taken_for_a_scheduler():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_nonsense() -> None:  # an HTTP server, say: bytes that are not Dask's frames
        with server:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 64)

    threading.Thread(target=answer_nonsense, daemon=True).start()
    try:
        # a child process: a half-made Dask client would print its traceback as the process ends
        done = subprocess.run(
            [sys.executable, "-m", "coach", "sweep", "conversationalist", *GRID, "--scheduler", f"tcp://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.close()
    assert done.returncode == 1 and done.stdout == ""
    assert "no Dask scheduler answered there (what answered does not speak Dask's protocol)" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_a_server_that_accepts_and_stays_silent_is_given_up_on(monkeypatch, capsys):
    import coach.sweep_backends as backends

    monkeypatch.setattr(backends, "REACH_SECONDS", 0.5)  # the deadline, shortened for the test
    server = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel's backlog) and never writes
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    codes: list[int] = []
    # in a thread, so code that waits forever fails this test instead of hanging the suite
    worker = threading.Thread(target=lambda: codes.append(main(["sweep", "conversationalist", *GRID, "--scheduler", address])), daemon=True)  # fmt: skip
    try:
        worker.start()
        worker.join(timeout=60)
    finally:
        server.close()
    assert codes == [1], "the command did not give up on a silent server within 60 s"
    out = capsys.readouterr()
    assert "no Dask scheduler answered there (nothing answered within 1 s)" in out.err and out.out == ""
