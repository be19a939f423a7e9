"""The command line end to end, as a user runs it (CONTRACTS.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coach.cli import main as cli_main
from coach.pool_server import worker_count

ROOT = Path(__file__).resolve().parent.parent


def coach(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_run_json_has_the_contract_shape():
    out = coach("run", "scenarios/conversationalist.yaml", "--replicates", "3", "--days", "20", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"scenario", "days", "replicates", "seed", "version", "summary", "daily"} <= set(data)
    assert data["days"] == 20 and data["replicates"] == 3
    s = data["summary"]
    for key in ("followers_end", "follows", "unfollows"):
        assert set(s[key]) == {"median", "p10", "p90"}
        assert s[key]["p10"] <= s[key]["median"] <= s[key]["p90"]
    assert set(s["follows_by_channel"]) == {"reshare", "conversation", "outreach", "discovery"}
    assert set(s["unfollows_by_reason"]) == {"fatigue", "content", "ignored", "neglect", "churn"}
    assert isinstance(s["minutes_per_day"], float)
    assert data["daily"]["day"] == list(range(1, 21))
    assert len(data["daily"]["followers"]["median"]) == 20


def test_run_is_reproducible_and_seed_matters():
    args = ("run", "newcomer", "--replicates", "2", "--days", "15", "--format", "json")
    a, b, c = coach(*args), coach(*args), coach(*args, "--seed", "99")
    assert a.stdout == b.stdout
    assert json.loads(a.stdout)["summary"] != json.loads(c.stdout)["summary"]


def test_set_overrides_and_table_output():
    out = coach("run", "steady_professional", "--replicates", "2", "--days", "10", "--set", "habits.posts_per_day=9")
    assert out.returncode == 0, out.stderr
    assert (
        "The Steady Professional" in out.stdout and "left: too many posts" in out.stdout and "net change" in out.stdout
    )


def test_csv_to_file(tmp_path: Path):
    target = tmp_path / "out.csv"
    out = coach("run", "ghost", "--replicates", "2", "--days", "7", "--format", "csv", "--out", str(target))
    assert out.returncode == 0, out.stderr
    lines = target.read_text().splitlines()
    assert lines[0].startswith("scenario,day,followers_median") and len(lines) == 8


def test_unknown_persona_lists_personas_and_suggests_the_closest():
    out = coach("run", "conversatonalist")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "Did you mean conversationalist?" in out.stderr
    for persona in ("billboard", "ghost", "steady_professional"):
        assert persona in out.stderr


def test_a_set_typo_blames_the_option_not_the_file():
    out = coach("run", "steady_professional", "--set", "habits.reply_rat=0.5")
    assert out.returncode == 1
    first = out.stderr.strip().splitlines()[0]
    assert first.startswith("--set habits.reply_rat=0.5"), first
    assert "steady_professional.yaml" not in out.stderr and "reply_rate" in out.stderr


def test_compare_a_persona_with_a_tweaked_copy_of_itself_in_columns():
    args = (
        "compare",
        "billboard",
        "billboard",
        "--set",
        "2:habits.reply_rate=0.8",
        "--replicates",
        "5",
        "--days",
        "30",
    )
    out = coach(*args)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("[1] The Billboard ") and lines[1].startswith("[2] The Billboard (reply rate 0.8)")
    header = next(line for line in lines if "[2] - [1]" in line)
    assert header.split()[:2] == ["[1]", "[2]"]
    # one row per measure, every scenario on it: the columns are side by side, not in blocks
    row = next(line for line in lines if line.startswith("  left: their replies went unanswered"))
    assert len(row.split("unanswered", 1)[1].split()) >= 4
    data = json.loads(coach(*args, "--format", "json").stdout)
    (diff,) = data["differences"]
    assert diff["scenario"] == "The Billboard (reply rate 0.8)" and diff["versus"] == "The Billboard"
    # answering the replies it used to ignore: fewer people leave for being ignored (same seeds)
    assert diff["difference"]["unfollows_ignored"]["median"] < 0
    bad = coach("compare", "billboard", "ghost", "--set", "3:days=4")
    assert bad.returncode == 2 and "no scenario 3" in bad.stderr


def test_help_has_examples_and_scenarios_fit_100_characters():
    for command in ((), ("run",), ("compare",), ("schema",)):
        out = coach(*command, "--help")
        assert out.returncode == 0 and "examples:" in out.stdout, command
    listing = coach("scenarios").stdout.splitlines()
    assert len(listing) >= 9 and max(len(line) for line in listing) <= 100


def test_every_command_s_help_ends_with_examples_that_parse():
    """`coach COMMAND --help` ends with examples (docs/cli.md says so), and each example is a
    command line this CLI accepts, so they cannot drift from the options."""
    import argparse
    import re
    import shlex

    from coach.cli import COMMANDS, build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {None: parser.format_help()} | {c.name: subs.choices[c.name].format_help() for c in COMMANDS}
    for name, text in helps.items():
        assert "examples:" in text, name
        lines = [line for line in text.split("examples:", 1)[1].splitlines() if line.startswith("  coach ")]
        assert lines, name
        for line in lines:
            command = re.split(r"\s{2,}", line.strip())[0].split(">")[0]  # before its explanation, any redirect
            args = parser.parse_args(shlex.split(command)[1:])
            assert name is None or args.command == name, line


def test_run_table_speaks_the_pages_words():
    out = coach("run", "ghost", "--replicates", "2", "--days", "5")
    assert "left: the account went quiet" in out.stdout and "came: search and recommendations" in out.stdout
    assert "-0 " not in out.stdout


def test_schema_is_json_schema_and_every_bundled_persona_follows_it():
    import jsonschema  # in the test extra

    out = coach("schema")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=scenario.schema.json\n"), path.name
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(text))]
        assert not errors, (path.name, errors)
    # the schema catches what the loader catches: a typo and an out-of-range value
    assert not validator.is_valid({"version": 1, "habits": {"reply_rat": 0.5}})
    assert not validator.is_valid({"version": 1, "habits": {"posts_per_day": 500}})
    assert validator.is_valid({"version": 1, "platform": "x"}) and not validator.is_valid({"platform": "myspace"})
    # the file the personas point at is this command's output (regenerate: coach schema --out ...)
    assert json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text()) == schema


def test_compare_reports_paired_differences():
    out = coach("compare", "billboard", "turnaround", "--replicates", "3", "--days", "60", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    (row,) = data["differences"]
    assert row["scenario"] == "The Turnaround" and row["versus"] == "The Billboard"
    assert row["difference"]["followers_end"]["median"] > 0  # changing course from day 45 helps


def test_validate_and_scenarios():
    ok = coach("validate", *[str(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))])
    assert ok.returncode == 0 and ok.stdout.count(": ok") >= 8
    listing = coach("scenarios")
    assert listing.returncode == 0 and "conversationalist" in listing.stdout and "The Ghost" in listing.stdout


def test_invalid_input_exits_1_with_messages_and_no_traceback(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nhabits:\n  posts_per_dya: 3\n  reply_rate: 7\n")
    out = coach("validate", str(bad))
    assert out.returncode == 1
    assert "posts_per_day" in out.stderr and "habits.reply_rate" in out.stderr and "Traceback" not in out.stderr
    out = coach("run", str(bad))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    out = coach("run", "steady_professional", "--set", "habits.nope=1")
    assert out.returncode == 1 and "habits.nope" in out.stderr


@pytest.mark.parametrize(
    "args", [(), ("run",), ("run", "x.yaml", "--replicates", "many"), ("compare", "ghost"), ("frobnicate",)]
)
def test_usage_errors_exit_2(args):
    out = coach(*args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "usage" in out.stderr.lower() and "Traceback" not in out.stderr


def test_a_bare_coach_lists_the_commands_and_a_typo_gets_the_closest(capsys):
    assert cli_main([]) == 2
    listing = capsys.readouterr().err
    assert "simulate one scenario" in listing and "coach COMMAND --help" in listing  # each command, with its help
    assert cli_main(["advice", "ghost"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'advice'. Did you mean 'advise'?" in err and "Commands: run, compare" in err


def test_the_first_start_compiles_the_engine_once_and_says_so(tmp_path: Path):
    """On a machine without the compiled passes (here: an empty numba cache) a simulating command
    says why its first answer waits, compiles, and the next start loads them silently."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    cmd = [sys.executable, "-m", "coach", "run", "newcomer", "--days", "3", "--replicates", "2", "--quiet"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "preparing the simulator" in first.stderr and "about 10 s, once" in first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 0 and "preparing the simulator" not in second.stderr
    assert second.stdout == first.stdout  # the same answer, whether compiled now or loaded
    validate = subprocess.run(
        [sys.executable, "-m", "coach", "validate", "newcomer"], capture_output=True, text=True,
        env={**env, "NUMBA_CACHE_DIR": str(tmp_path / "other")}, timeout=60,
    )  # fmt: skip
    assert validate.returncode == 0 and "preparing" not in validate.stderr  # only commands that simulate


@pytest.mark.skipif(worker_count() < 2, reason="one core: advise runs in-process, no pool to start")
def test_the_command_starts_the_pool_server_before_it_loads_the_engine():
    """``coach advise`` starts the pool's server before the command line loads; other commands do not."""
    probe = (
        "import sys, coach, coach.launch\n"
        "from multiprocessing import forkserver\n"
        "print(sorted(m for m in ('numba', 'numpy', 'pydantic', 'coach.engine') if m in sys.modules))\n"
        "code = coach.launch.main([sys.argv[1], 'no_such_persona'])\n"
        "print(code, forkserver._forkserver._forkserver_pid is not None)\n"
    )
    for command, started in (("advise", "True"), ("validate", "False")):
        out = subprocess.run([sys.executable, "-c", probe, command], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split("\n")[:2] == ["[]", f"1 {started}"], (command, out.stdout, out.stderr)


def test_commands_that_do_not_simulate_do_not_load_the_engine():
    # `coach validate` is what a learner editing YAML runs again and again: it must not wait
    # for numba and the compiled passes (about half a second), which only simulating needs.
    probe = (
        "import sys\n"
        "from coach.cli import main\n"
        f"codes = [main(['validate', {str(ROOT / 'scenarios' / 'billboard.yaml')!r}]), main(['scenarios']), main(['schema'])]\n"
        "print(codes, sorted(m for m in ('numba', 'coach.engine', 'coach.experiments') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 0] []"


@pytest.mark.parametrize("command, name", [("run", "mine.yaml"), ("advise", "mine.yaml"), ("import", "posts.csv")])
def test_out_never_writes_over_the_file_the_command_reads(command, name, tmp_path, capsys):
    mine = tmp_path / name
    mine.write_text((ROOT / "scenarios" / "ghost.yaml").read_text() if name.endswith(".yaml") else "id,date,text\n")
    before = mine.read_bytes()
    # the same file by another spelling of its path
    assert cli_main([command, str(mine), "--out", str(tmp_path / "." / name)]) == 2
    err = capsys.readouterr().err
    assert f"is the file this command reads ({mine})" in err and "give another path" in err
    assert mine.read_bytes() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", ""], "'': an empty file name; give a file's path or a persona's name"),
        (["import", ""], "'': an empty file name; give a file's path"),
        (["workshop", "open", ""], "'': an empty file name; give a file's path or a bundled exercise's name"),
        (["run", "ghost", "--out", ""], "--out '': an empty file name; give a file's path"),
    ],
)
def test_an_empty_file_name_is_a_usage_error(args, message, capsys):
    assert cli_main(args) == 2
    assert capsys.readouterr().err.rstrip().endswith(f"coach: error: {message}")


def test_a_shared_set_that_fails_for_every_scenario_is_said_once(capsys):
    assert cli_main(["compare", "ghost", "newcomer", "--set", "habits.reply_rat=0.5"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "habits.reply_rat: unknown key" in lines[0], lines


def test_a_targeted_set_is_quoted_with_its_scenario_number(capsys):
    assert cli_main(["compare", "ghost", "newcomer", "--set", "2:habits.reply_rat=0.5"]) == 1
    assert capsys.readouterr().err.startswith("--set 2:habits.reply_rat=0.5: habits.reply_rat: unknown key")


def test_out_is_compared_with_files_only_not_with_other_values(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ABC123").write_text("an earlier export\n")  # a file named like the room code
    assert cli_main(["workshop", "results", "ABC123", "--db", f"sqlite:///{tmp_path / 'w.db'}", "--out", "ABC123"]) == 1
    err = capsys.readouterr().err
    assert "There is no room ABC123" in err and "is the file this command reads" not in err


def test_a_set_value_names_no_line(capsys):
    assert cli_main(["run", "ghost", "--set", "habits.reply_delay_hours=1:30"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("--set habits.reply_delay_hours: 1:30 would be read as the base-60 number 90")
        and "line" not in err
    )


@pytest.mark.parametrize(("runs", "legend"), [("1", "from 1 run (too few"), ("3", "median of 3 runs (too few")])
def test_a_table_of_too_few_runs_gives_medians_without_an_interval(runs, legend):
    """QA: with --replicates 1 every row read '+14 (+14 to +14)', an interval of one run."""
    done = coach("run", "steady_professional", "--replicates", runs, "--days", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "1 day," in lines[0] and "(bluesky, 1 days" not in lines[0]
    assert lines[1].startswith(legend)
    rows = [line for line in lines[3:] if line.strip()]
    assert rows and not any(re.search(r"\(\S+ to \S+\)$", line) for line in rows), rows


def test_a_table_of_five_runs_gives_their_80_percent_interval():
    done = coach("run", "steady_professional", "--replicates", "5", "--days", "3")
    assert done.returncode == 0, done.stderr
    assert "80% of runs" in done.stdout
    assert re.search(r"net change +[+-]\d+ \([+-]\d+ to [+-]\d+\)$", done.stdout, re.M), done.stdout
