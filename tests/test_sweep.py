"""``coach sweep``: grids, ranges, exact cells, CSV/JSON agreement, resume, and bad input.

Expected values come from the grid definitions or from ``coach run`` itself, never from
hard-coded model output. Sweeps here are tiny (short horizons, two or three runs) so the
whole module stays a few seconds.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import coach.sweep_backends as sweep_module
from coach import experiments
from coach.cli import main
from coach.results import CHANNELS, REASONS, quantiles
from coach.scenario import SCENARIO_DIR, load_scenario
from coach.sweep import MAX_CELLS, METRICS, build_sweep, field_kind, parse_vary

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--replicates", "3", "--days", "12"]
GRID = ["--vary", "habits.posts_per_day=1,4", "--vary", "habits.reply_rate=0.2,0.9"]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- grid expansion and range syntax ---------------------------------------------------


def test_linear_range_and_clean_floats():
    assert parse_vary("habits.reply_rate=0:1:5").values == (0.0, 0.25, 0.5, 0.75, 1.0)
    tenths = parse_vary("habits.link_share=0:1:11").values
    assert tenths[3] == 0.3 and len(tenths) == 11  # not 0.30000000000000004


def test_log_range_on_a_whole_number_field():
    axis = parse_vary("audience.followers=100:100000:4log")
    assert axis.values == (100, 1000, 10000, 100000)
    assert all(isinstance(v, int) for v in axis.values)


def test_whole_number_field_takes_whole_linear_steps():
    axis = parse_vary("audience.followers=0:1000:5")
    assert axis.values == (0, 250, 500, 750, 1000) and all(isinstance(v, int) for v in axis.values)


def test_lists_mix_values_and_ranges_and_keep_brackets():
    assert parse_vary("habits.posts_per_day=0.5,1:3:3,8").values == (0.5, 1.0, 2.0, 3.0, 8)
    assert parse_vary("habits.active_hours=[8, 22],[6,20]").values == ([8, 22], [6, 20])
    assert parse_vary("platform=x,bluesky").values == ("x", "bluesky")


def test_grid_is_every_combination_in_order_last_axis_fastest():
    s = build_sweep("steady_professional", ["habits.posts_per_day=1,2,3", "habits.reply_rate=0,1"])
    combos = list(s.combinations())
    assert s.size == 6 == len(combos)
    assert combos[:3] == [
        {"habits.posts_per_day": 1, "habits.reply_rate": 0},
        {"habits.posts_per_day": 1, "habits.reply_rate": 1},
        {"habits.posts_per_day": 2, "habits.reply_rate": 0},
    ]
    assert list(s.combinations(4)) == combos[4:]
    assert [c.index for c in s.cells(4)] == [4, 5]


def test_cells_share_seed_and_replicates_and_differ_only_in_the_axes():
    s = build_sweep("steady_professional", ["habits.posts_per_day=1,5"], replicates=4, seed=21, days=30)
    a, b = (c.scenario for c in s.cells())
    assert (a.seed, a.replicates, a.days) == (b.seed, b.replicates, b.days) == (21, 4, 30)
    assert (a.habits.posts_per_day, b.habits.posts_per_day) == (1, 5)
    assert a.with_habits(posts_per_day=5) == b


def test_a_platform_value_cell_equals_coach_run_on_a_preset(capsys):
    args = ["steady_professional", *SMALL, "--format", "json"]
    code, out, err = cli(capsys, "sweep", *args, "--vary", "platform.link_reach=0.1,0.5")
    assert code == 0, err
    code, run, err = cli(capsys, "run", *args, "--set", "platform.link_reach=0.5")
    assert code == 0, err
    assert json.loads(out)["cells"][1]["summary"] == json.loads(run)["summary"]


def test_platform_values_can_be_varied_on_a_preset():
    s = build_sweep("steady_professional", ["platform.link_reach=0.1,0.5"])  # the persona names a preset
    reaches = [c.scenario.platform.link_reach for c in s.cells()]
    assert reaches == [0.1, 0.5]
    assert {c.scenario.platform.out_of_network for c in s.cells()} == {s.base.platform.out_of_network}


# ---- a cell is `coach run` exactly -----------------------------------------------------


def test_a_cell_equals_coach_run_with_the_same_set_seed_and_replicates(capsys):
    fixed = ["--set", "habits.link_share=0.4", "--seed", "5", *SMALL]
    code, out, err = cli(capsys, "sweep", "conversationalist", "--vary", "habits.posts_per_day=1,6", *fixed, "--format", "json")  # fmt: skip
    assert code == 0, err
    cells = json.loads(out)["cells"]
    for value, cell in zip((1, 6), cells, strict=True):
        assert cell["values"] == {"habits.posts_per_day": value}
        code, out, err = cli(capsys, "run", "conversationalist", "--set", f"habits.posts_per_day={value}", *fixed, "--format", "json")  # fmt: skip
        assert code == 0, err
        assert cell["summary"] == json.loads(out)["summary"]
    assert cells[0]["summary"] != cells[1]["summary"]


def test_json_has_the_contract_shape(capsys):
    code, out, err = cli(capsys, "sweep", "newcomer", *GRID, *SMALL, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {"scenario", "seed", "replicates", "days", "version", "vary", "cells"} <= set(data)
    assert data["vary"] == {"habits.posts_per_day": [1, 4], "habits.reply_rate": [0.2, 0.9]}
    assert (data["replicates"], data["days"]) == (3, 12)
    code, out, _ = cli(capsys, "run", "newcomer", *SMALL, "--format", "json")
    run_summary = json.loads(out)["summary"]
    assert len(data["cells"]) == 4
    for cell in data["cells"]:
        assert set(cell) == {"values", "summary"}
        assert set(cell["summary"]) == set(run_summary)


def test_csv_and_json_agree(capsys):
    code, out, err = cli(capsys, "sweep", "newcomer", *GRID, *SMALL, "--format", "json")
    assert code == 0, err
    cells = json.loads(out)["cells"]
    code, out, err = cli(capsys, "sweep", "newcomer", *GRID, *SMALL, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    fields = ["habits.posts_per_day", "habits.reply_rate"]
    assert list(rows[0]) == [*fields, "replicate", "seed", *METRICS]
    assert len(rows) == 4 * 3
    for i, cell in enumerate(cells):
        mine = rows[3 * i : 3 * i + 3]
        assert [r["replicate"] for r in mine] == ["0", "1", "2"]
        assert {r["seed"] for r in mine} == {"7"}
        for f in fields:  # tidy: every parameter on every row
            assert {float(r[f]) for r in mine} == {float(cell["values"][f])}

        def column(name: str, mine: list[dict[str, str]] = mine) -> np.ndarray:
            return np.array([float(r[name]) for r in mine])

        s = cell["summary"]
        assert quantiles(column("followers_end")) == s["followers_end"]
        assert quantiles(column("net")) == s["net"]
        assert quantiles(column("unfollows")) == s["unfollows"]
        for c in CHANNELS:
            assert quantiles(column(f"follows_{c}")) == s["follows_by_channel"][c]
        for r in REASONS:
            assert quantiles(column(f"unfollows_{r}")) == s["unfollows_by_reason"][r]
        assert round(float(np.median(column("minutes_per_day"))), 1) == s["minutes_per_day"]
        assert set(column("followers_start")) == {s["followers_start"]}


def test_table_names_the_best_cell(capsys):
    code, out, err = cli(capsys, "sweep", "newcomer", *GRID, *SMALL)
    assert code == 0, err
    code, js, _ = cli(capsys, "sweep", "newcomer", *GRID, *SMALL, "--format", "json")
    cells = json.loads(js)["cells"]
    best = max(cells, key=lambda c: c["summary"]["net"]["median"])
    words = ", ".join(f"{k}={json.dumps(v)}" for k, v in best["values"].items())
    assert f"largest median net change: {words}" in out
    assert len([line for line in out.splitlines() if "(" in line and "to" in line]) >= 4


def test_sweep_file_equals_the_same_sweep_on_the_command_line(tmp_path: Path, capsys):
    (tmp_path / "mine.yaml").write_bytes((SCENARIO_DIR / "newcomer.yaml").read_bytes())
    (tmp_path / "study.yaml").write_text(
        "kind: sweep\nscenario: mine.yaml\nvary:\n  habits.posts_per_day: [1, 4]\n  habits.reply_rate: '0.2,0.9'\n"
        "replicates: 3\ndays: 12\n"
    )
    code, from_file, err = cli(capsys, "sweep", str(tmp_path / "study.yaml"), "--format", "csv")
    assert code == 0, err
    code, from_flags, err = cli(capsys, "sweep", "newcomer", *GRID, *SMALL, "--format", "csv")
    assert from_file == from_flags


def test_sweep_file_with_a_typo_names_the_key(tmp_path: Path, capsys):
    (tmp_path / "study.yaml").write_text("kind: sweep\nscenario: newcomer\nvarry: {habits.posts_per_day: [1, 2]}\n")
    code, out, err = cli(capsys, "sweep", str(tmp_path / "study.yaml"))
    assert code == 1 and "varry" in err and "Did you mean 'vary'?" in err and not out


@pytest.mark.parametrize(
    "extra, cli_args, author, problem",
    [
        ("replicates: -1\n", [], "{file}", "replicates: -1 is not allowed"),
        ("set: {habits.reply_rat: 1}\n", [], "{file}", "habits.reply_rat: unknown key"),
        ("", ["--set", "habits.reply_rate=5"], "--set habits.reply_rate=5", "habits.reply_rate: 5 is not allowed"),
        ("", ["--replicates", "0"], "--replicates 0", "replicates: 0 is not allowed"),
    ],
)
def test_a_mistake_is_reported_as_its_authors_not_the_personas(
    tmp_path: Path, capsys, extra, cli_args, author, problem
):
    study = tmp_path / "study.yaml"
    study.write_text(f"kind: sweep\nscenario: newcomer\n{extra}vary: {{habits.posts_per_day: [1, 2]}}\n")
    code, out, err = cli(capsys, "sweep", str(study), *cli_args)
    assert code == 1 and not out
    assert err.startswith(f"{author.format(file=study)}: {problem}"), err
    assert "newcomer.yaml" not in err  # the bundled persona has no mistake


def test_a_sweep_never_writes_over_the_scenario_it_reads(tmp_path: Path, capsys):
    base = tmp_path / "base.yaml"
    base.write_text((SCENARIO_DIR / "newcomer.yaml").read_text())
    before = base.read_bytes()
    study = tmp_path / "study.yaml"
    study.write_text("kind: sweep\nscenario: base.yaml\nvary: {habits.posts_per_day: [1, 2]}\n")
    code, out, err = cli(capsys, "sweep", str(study), "--out", str(base), "--fresh")
    assert code == 2 and not out and f"--out {base} is the scenario this sweep reads" in err
    assert base.read_bytes() == before


def test_a_slip_in_a_sweep_files_set_names_the_file(tmp_path: Path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(
        "kind: sweep\nscenario: newcomer\nset: {habits.posts_per_day.x: 1}\nvary: {habits.reply_rate: [0.1, 0.2]}\n"
    )
    code, out, err = cli(capsys, "sweep", str(study))
    assert (
        code == 1
        and not out
        and err.startswith(f"{study}: set: habits.posts_per_day.x: habits.posts_per_day is not a mapping")
    )


def test_quiet_sweep_draws_no_progress_line(monkeypatch, capsys):
    import coach.cli.sweep as sweep_cli

    drawn = []
    monkeypatch.setattr(sweep_cli, "progress_line", lambda *a, **k: drawn.append(1) or (lambda *p: None))
    code, out, _ = cli(
        capsys, "sweep", "newcomer", "--vary", "habits.reply_rate=0.1,0.2", "--days", "5", "--replicates", "2", "-q"
    )
    assert code == 0 and "habits.reply_rate" in out and drawn == []
    code, _, _ = cli(
        capsys, "sweep", "newcomer", "--vary", "habits.reply_rate=0.1,0.2", "--days", "5", "--replicates", "2"
    )
    assert code == 0 and drawn == [1]


def test_the_same_field_varied_twice_is_refused_not_overwritten(capsys):
    code, out, err = cli(
        capsys, "sweep", "newcomer", "--vary", "habits.reply_rate=0.1,0.2", "--vary", "habits.reply_rate=0.3"
    )
    assert code == 1 and not out
    assert err.strip() == "--vary habits.reply_rate: given twice; give each field once, with all its values (V1,V2,…)"


@pytest.mark.parametrize(
    "head, problem",
    [
        ("kind: sweeep\nscenario: newcomer\n", "kind: 'sweeep' is not allowed; allowed: sweep (a sweep file), or no kind for a scenario file. Did you mean 'sweep'?"),
        ("kind: sweep\nscenario: [newcomer]\n", "scenario: a list of 1 is not allowed; allowed: a scenario file"),
    ],
)  # fmt: skip
def test_a_sweep_file_with_a_wrong_kind_or_scenario_says_so(tmp_path: Path, capsys, head, problem):
    study = tmp_path / "study.yaml"
    study.write_text(head + "vary: {habits.posts_per_day: [1, 2]}\n")
    code, out, err = cli(capsys, "sweep", str(study))
    assert code == 1 and not out and err.startswith(f"{study}: {problem}"), err


# ---- streaming to --out and resuming ---------------------------------------------------


def _count_runs(monkeypatch) -> list[int]:
    """Record how many cells each run_batch call gets (to prove finished cells are skipped)."""
    calls: list[int] = []
    real = experiments.run_batch  # looked up by run_sweep when it runs

    def counting(scenarios, *args, **kwargs):
        calls.append(len(scenarios))
        return real(scenarios, *args, **kwargs)

    monkeypatch.setattr(experiments, "run_batch", counting)
    return calls


def test_csv_resumes_after_an_interrupted_run(tmp_path: Path, capsys, monkeypatch):
    grid = ["--vary", "habits.posts_per_day=1,2,4", *SMALL, "--format", "csv"]
    whole = tmp_path / "whole.csv"
    assert cli(capsys, "sweep", "newcomer", *grid, "--out", str(whole))[0] == 0
    reference = whole.read_bytes()
    lines = reference.splitlines(keepends=True)
    assert len(lines) == 1 + 3 * 3
    # An interruption: the header, the first cell, and half a row of the second cell's rows.
    cut = tmp_path / "cut.csv"
    cut.write_bytes(b"".join(lines[:5]) + lines[5][:7])
    (tmp_path / "cut.csv.sweep.jsonl").write_bytes((tmp_path / "whole.csv.sweep.jsonl").read_bytes())
    calls = _count_runs(monkeypatch)
    code, _, err = cli(capsys, "sweep", "newcomer", *grid, "--out", str(cut))
    assert code == 0, err
    assert "1 of 3 cells are already there" in err
    assert sum(calls) == 2  # only the two unfinished cells ran
    assert cut.read_bytes() == reference
    calls.clear()
    code, _, err = cli(capsys, "sweep", "newcomer", *grid, "--out", str(cut))
    assert code == 0 and "nothing to run" in err and calls == []
    assert cut.read_bytes() == reference


def test_json_resumes_from_its_journal(tmp_path: Path, capsys, monkeypatch):
    grid = ["--vary", "habits.posts_per_day=1,2,4", *SMALL, "--format", "json"]
    whole = tmp_path / "whole.json"
    assert cli(capsys, "sweep", "newcomer", *grid, "--out", str(whole))[0] == 0
    journal = (tmp_path / "whole.json.sweep.jsonl").read_bytes().splitlines(keepends=True)
    assert len(journal) == 1 + 3  # the sweep's fingerprint, then one line per cell
    part = tmp_path / "part.json"
    (tmp_path / "part.json.sweep.jsonl").write_bytes(b"".join(journal[:3]) + journal[3][:20])  # torn last line
    calls = _count_runs(monkeypatch)
    code, _, err = cli(capsys, "sweep", "newcomer", *grid, "--out", str(part))
    assert code == 0, err
    assert "2 of 3 cells are already there" in err
    assert sum(calls) == 1
    assert part.read_bytes() == whole.read_bytes()
    code, stdout, _ = cli(capsys, "sweep", "newcomer", *grid)
    assert json.loads(stdout) == json.loads(whole.read_text())  # streamed stdout is the same JSON


def test_a_different_sweep_on_the_same_out_is_refused_until_fresh(tmp_path: Path, capsys):
    target = tmp_path / "s.csv"
    base = ["sweep", "newcomer", "--vary", "habits.posts_per_day=1,2", *SMALL, "--format", "csv", "--out", str(target)]
    assert cli(capsys, *base)[0] == 0
    first = target.read_bytes()
    code, _, err = cli(capsys, *base, "--set", "habits.reply_rate=0.9")
    assert code == 1 and "different sweep" in err and "--fresh" in err
    assert target.read_bytes() == first
    code, _, err = cli(capsys, *base, "--set", "habits.reply_rate=0.9", "--fresh")
    assert code == 0, err
    assert target.read_bytes() != first
    other = tmp_path / "notes.csv"
    other.write_text("my own notes\n")
    code, _, err = cli(capsys, "sweep", "newcomer", "--vary", "habits.posts_per_day=1,2", "--out", str(other))
    assert code == 1 and "not written by a sweep" in err and other.read_text() == "my own notes\n"


# ---- bad --vary: exit 1, a clear message, before any work ------------------------------


@pytest.mark.parametrize(
    ("vary", "words"),
    [
        ("habits.post_per_day=1,2", ["unknown field", "Did you mean 'habits.posts_per_day'?"]),
        ("habits.posts_per_day=1,400", ["habits.posts_per_day=400", "allowed: a number from 0 to 100"]),
        ("habits.posts_per_day=", ["no values"]),
        ("habits.reply_rate=0:1:1", ["COUNT is 1"]),
        ("audience.followers=0:10:4", ["whole numbers", "3.33333"]),
        ("seed=1,2", ["cannot be varied", "--seed"]),
        ("habits=1,2", ["group of fields", "habits.posts_per_day"]),
        ("habits.posts_per_day=1,1", ["listed twice"]),
        ("habits.posts_per_day", ["expected FIELD=V1,V2"]),
    ],
)
def test_bad_vary_exits_1_before_any_work(vary: str, words: list[str], tmp_path: Path, capsys, monkeypatch):
    assert_refused(capsys, monkeypatch, tmp_path, ["--vary", vary], words)


def test_a_grid_over_the_size_limit_is_refused(tmp_path: Path, capsys, monkeypatch):
    grid = ["--vary", "habits.posts_per_day=0:100:200", "--vary", "habits.reply_rate=0:1:100"]
    assert_refused(capsys, monkeypatch, tmp_path, grid, ["200 × 100 = 20,000 cells", f"at most {MAX_CELLS:,}"])


def test_a_cell_this_machine_cannot_hold_is_refused_by_its_values(tmp_path: Path, capsys, monkeypatch):
    flood = ["--vary", "audience.prospects_per_day=10,1000000", "--set", "audience.reachable=1000000000"]
    assert_refused(
        capsys, monkeypatch, tmp_path, flood, ["cell audience.prospects_per_day=1000000 can", "allowed: up to"]
    )
    kept = tmp_path / "kept.csv"  # a refusal comes before --fresh replaces what is there
    assert cli(capsys, "sweep", "newcomer", "--vary", "habits.posts_per_day=1,2", *SMALL, "--out", str(kept))[0] == 0
    before = kept.read_bytes()
    code, _, err = cli(capsys, "sweep", "newcomer", *flood, "--replicates", "3", "--out", str(kept), "--fresh")
    assert code == 1 and "prospects_per_day=1000000" in err and kept.read_bytes() == before


def test_a_long_sweep_says_how_long_before_its_first_run(tmp_path: Path, capsys, monkeypatch):
    order: list[str] = []

    def interrupted(*args, **kwargs):
        order.append(capsys.readouterr().err)  # what was on stderr when the first run was asked for
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "run_batch", interrupted)
    big = ["--vary", "audience.followers=500000,1000000", "--replicates", "30", "--days", "90"]
    out = tmp_path / "big.csv"
    assert main(["sweep", "steady_professional", *big, "--format", "csv", "--out", str(out)]) == 130
    capsys.readouterr()  # the interruption's own lines
    assert order and order[0].startswith("coach: 60 runs, expected to take about")
    assert "running the same command again resumes" in order[0]
    assert (
        main(["sweep", "steady_professional", *big, "--quiet", "--format", "csv", "--out", str(out), "--fresh"]) == 130
    )
    capsys.readouterr()
    assert order[1] == ""  # --quiet: no announcement
    small = tmp_path / "small.csv"
    assert main(["sweep", "newcomer", "--vary", "habits.posts_per_day=1,2", *SMALL, "--out", str(small)]) == 130
    assert "expected to take" not in order[2]  # a short sweep just runs


def assert_refused(capsys, monkeypatch, tmp_path: Path, options: list[str], words: list[str]) -> None:
    calls = _count_runs(monkeypatch)
    out = tmp_path / "never.csv"
    code, stdout, err = cli(capsys, "sweep", "newcomer", *options, "--out", str(out))
    assert code == 1
    for w in words:
        assert w in err
    assert "Traceback" not in err and not stdout
    assert calls == [] and not out.exists()


def test_a_cell_that_breaks_a_rule_is_named():
    with pytest.raises(Exception) as info:
        build_sweep("newcomer", ["habits.link_share=0.2,0.7", "habits.promo_share=0,0.5"])
    message = str(info.value)
    assert "habits.link_share=0.7, habits.promo_share=0.5" in message and "at most 1" in message


def test_field_kinds_come_from_the_models():
    assert field_kind("audience.followers").kind == "int"
    assert field_kind("habits.reply_rate").high == 1
    assert field_kind("platform.ranked_feed").kind == "bool"


def test_end_to_end_exit_code_and_no_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "coach", "sweep", "newcomer", "--vary", "habits.reply_rat=0,1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 1
    assert "Did you mean 'habits.reply_rate'?" in out.stderr and "Traceback" not in out.stderr


def test_the_sweep_base_matches_the_file():
    s = build_sweep("newcomer", ["habits.posts_per_day=1,2"])
    assert s.base == load_scenario(SCENARIO_DIR / "newcomer.yaml")


def test_progress_shows_cells_runs_and_time_left():
    from coach.cli.sweep import progress_line

    stream = io.StringIO()
    update = progress_line(stream, after_seconds=0, every_seconds=0)
    update(2, 10, 40, 200)  # resumed: two cells were already there when this process started
    update(3, 10, 60, 200)
    update(10, 10, 200, 200)
    text = stream.getvalue()
    assert "3/10 cells, 60/200 runs" in text and "left" in text
    assert text.endswith("\n") and "10/10 cells, 200/200 runs" in text


def test_a_real_interruption_resumes_where_it_stopped(tmp_path: Path, capsys):
    """Ctrl-C (SIGINT) a running sweep once two cells are on disk, then run the same command."""
    import signal
    import time

    values = "habits.posts_per_day=0.5:12:120"
    args = [sys.executable, "-m", "coach", "sweep", "newcomer", "--vary", values, "--replicates", "1", "--days", "3"]
    target = tmp_path / "s.csv"
    command = [*args, "--format", "csv", "--out", str(target)]
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while (not target.exists() or target.read_text().count("\n") < 3) and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep wrote nothing"
            time.sleep(0.02)  # polling the file for progress, not waiting for a result
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "Traceback" not in err
    written = target.read_text().count("\n") - 1
    assert 2 <= written < 120  # stopped part-way, with whole cells on disk
    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "cells are already there" in resumed.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    grid = parse_vary(values).values
    assert [float(r["habits.posts_per_day"]) for r in rows] == [float(v) for v in grid]
    # the cells on both sides of the interruption are the ones a fresh sweep of them gives
    picks = sorted({0, written - 1, written, len(grid) - 1})
    listed = ",".join(json.dumps(grid[i]) for i in picks)
    code, fresh, err = cli(capsys, "sweep", "newcomer", "--vary", f"habits.posts_per_day={listed}", "--replicates", "1", "--days", "3", "--format", "csv")  # fmt: skip
    assert code == 0, err
    fresh_rows = list(csv.DictReader(io.StringIO(fresh)))
    assert [rows[i] for i in picks] == fresh_rows


def test_a_budget_stops_a_sweep_between_cells_and_keeps_what_finished(monkeypatch):
    from coach.engine import RunCancelled

    sweep = build_sweep("newcomer", ["habits.posts_per_day=1,2,3,4"], replicates=2, days=6)
    whole = list(sweep_module.run_sweep(sweep, parallel=False))
    monkeypatch.setattr(sweep_module, "cells_per_chunk", lambda replicates, workers=None: 1)  # one cell per chunk
    finished: list[int] = []

    def progress(cells: int, total: int, runs: int, runs_total: int) -> None:
        if runs == cells * sweep.replicates:  # a whole cell is done (not a run inside one)
            finished.append(cells)

    got = []
    with pytest.raises(RunCancelled, match="stopped after 2 of 4 cells"):
        for result in sweep_module.run_sweep(
            sweep, parallel=False, progress=progress, should_stop=lambda: bool(finished) and finished[-1] >= 2
        ):
            got.append(result)
    assert got == whole[:2]  # the cells finished before the budget ran out are the unstopped ones


def test_a_budget_stops_a_sweep_inside_a_cell():
    from coach.engine import RunCancelled

    sweep = build_sweep("newcomer", ["habits.posts_per_day=1,2"], replicates=2, days=30)
    asked = []

    def stop_on_the_third_question() -> bool:  # asked before the chunk, then once per simulated day
        asked.append(1)
        return len(asked) >= 3

    with pytest.raises(RunCancelled):
        list(sweep_module.run_sweep(sweep, parallel=False, should_stop=stop_on_the_third_question))
    assert len(asked) == 3  # stopped on the day it was told, not at the end of the cell
