"""Record (or check) the ensemble outputs of every bundled persona and the F1-F10 figures.

Usage: python benchmarks/pin_outputs.py record [FILE]   # write the JSON (default tests/pinned_outputs.json)
       python benchmarks/pin_outputs.py check [FILE]    # compare the current code against it

"Pin before you move": the file recorded before the engine rewrite lets anyone see, figure
by figure, whether the rewrite kept the model's answers within replicate noise. ``check``
prints each persona's median and 80% band before and after, and flags a median that moved
by more than half the recorded band (p90 - p10) — a loose, readable criterion, not a test.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

from coach.experiments import run_many
from coach.scenario import bundled_scenarios, load_scenario

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("followers_end", "net", "follows", "unfollows", "engagement_per_post", "impressions_per_day")
REPLICATES = 30  # the app's and the scenarios' default ensemble size


def persona_summaries() -> dict:
    out = {}
    for path in bundled_scenarios():
        s = load_scenario(path)
        summary = run_many(s, REPLICATES, parallel=False).summary()
        row = {name: summary[name] for name in FIGURES}
        row.update({f"unfollows_{r}": q for r, q in summary["unfollows_by_reason"].items()})
        row.update({f"follows_{c}": q for c, q in summary["follows_by_channel"].items()})
        out[path.stem] = row
    return out


def calibrate_text() -> str:
    env_path = str(ROOT)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "calibrate.py")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return done.stdout


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "tests" / "pinned_outputs.json"
    current = {"personas": persona_summaries(), "calibrate": calibrate_text().splitlines()}
    if mode == "record":
        path.write_text(json.dumps(current, indent=1) + "\n")
        print(
            f"recorded {len(current['personas'])} personas and {len(current['calibrate'])} calibration lines to {path}"
        )
        return
    pinned = json.loads(path.read_text())
    moved = 0
    for name, row in current["personas"].items():
        old_row = pinned["personas"].get(name, {})
        for figure, q in row.items():
            old = old_row.get(figure)
            if old is None:
                continue
            band = max(old["p90"] - old["p10"], 1e-9)
            flag = abs(q["median"] - old["median"]) > 0.5 * band and abs(q["median"] - old["median"]) > 2
            moved += flag
            with contextlib.suppress(Exception):
                print(
                    f"{'MOVED ' if flag else '      '}{name:20s} {figure:22s} "
                    f"{old['median']:>10.1f} [{old['p10']:.0f}, {old['p90']:.0f}]  ->  "
                    f"{q['median']:>10.1f} [{q['p10']:.0f}, {q['p90']:.0f}]"
                )
    print("\ncalibration before:")
    print("\n".join(pinned["calibrate"]))
    print("\ncalibration now:")
    print("\n".join(current["calibrate"]))
    print(f"\n{moved} figure(s) moved by more than half their recorded band")


if __name__ == "__main__":
    with contextlib.redirect_stderr(io.StringIO()):
        main()
