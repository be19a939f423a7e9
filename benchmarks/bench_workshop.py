"""How fast a room answers a class: N participants submitting within the same S seconds.

The Streamlit server runs every browser session in its own thread of one process, and the
simulations go to its pool of worker processes. This script does the same without browsers:
N threads join one room on a temporary SQLite file and submit different habits at moments
spread uniformly over S seconds, through the same call the participant page makes
(``coach.workshop.rooms.submit``: store the submission, simulate it once, cache the result).
A facilitator thread polls the database as the facilitator page does (every 3 s).

It prints, for each participant, the seconds from pressing Submit to having the prediction,
and when the facilitator's screen first showed every participant with a result; the target
of issue 12 is 30 participants within 10 s, all answered within 15 s. Nothing is asserted.

    python benchmarks/bench_workshop.py [--participants 30] [--window 10] [--round 1] [--repeat 1] [--refresh 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_class(args: argparse.Namespace, folder: Path, attempt: int) -> dict[str, float]:
    from coach.cli.workshop import open_room
    from coach.experiments import run_many
    from coach.workshop import Store, rooms
    from coach.workshop.exercise import habit_range

    store = Store(f"sqlite:///{folder / f'bench-{attempt}.db'}")
    room, key = open_room(store, args.exercise)
    for _ in range(args.round - 1):
        store.next_round(room.code, key)
    room = store.room(room.code)
    round_, base = rooms.round_of(room)
    rng = random.Random(attempt)  # the "class": different, reproducible habits
    people = [store.join(room.code, f"participant {i + 1}") for i in range(args.participants)]
    habits = []
    while len(habits) < len(people):
        chosen = {}
        for name in round_.habits:
            lo, hi = habit_range(round_, name)
            value = rng.uniform(lo, min(hi, lo + (hi - lo) / 2))  # the sensible half of each slider
            chosen[name] = round(value) if name == "posts_per_session" else round(value * 20) / 20
        try:
            rooms.submission_scenario(base, round_, chosen)
        except rooms.RoomError:
            continue  # shares over 100%: the page would refuse it, a participant would lower one
        habits.append(chosen)
    rooms.baseline(store, room)  # the facilitator page computes this when the round opens
    cpu = time.process_time()
    run_many(base.with_habits(**habits[0]), base.replicates, base.seed, parallel=False)
    cpu = time.process_time() - cpu  # CPU seconds of one submission's ensemble, whatever the load

    start = time.perf_counter() + 0.5
    offsets = sorted(rng.uniform(0, args.window) for _ in people)
    waits: list[float] = [float("nan")] * len(people)
    pressed: list[float] = [float("nan")] * len(people)
    shown: dict[int, float] = {}  # participant id -> when the facilitator's poll first showed a result
    seen_all = threading.Event()
    seen_at: list[float] = []

    def participant(i: int) -> None:
        time.sleep(max(0.0, start + offsets[i] - time.perf_counter()))
        pressed[i] = time.perf_counter()
        rooms.submit(store, room.code, people[i].token, habits[i])
        waits[i] = time.perf_counter() - pressed[i]

    def facilitator() -> None:
        while not seen_all.is_set():
            subs = store.latest_submissions(room.code)
            results = store.get_results([s.result_key for s in subs])
            now = time.perf_counter()
            for s in subs:
                if s.result_key in results:
                    shown.setdefault(s.participant_id, now)
            if len(shown) == len(people):
                seen_at.append(now - start)
                seen_all.set()
                return
            time.sleep(args.refresh)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(len(people))]
    watcher = threading.Thread(target=facilitator)
    for t in [*threads, watcher]:
        t.start()
    for t in threads:
        t.join()
    seen_all.wait(timeout=600)
    watcher.join(timeout=5)
    distinct = len({rooms.scenario_key(base.with_habits(**h)) for h in habits})
    on_screen = [shown.get(p.id, float("nan")) - pressed[i] for i, p in enumerate(people)]
    return {
        "median_wait": statistics.median(waits),
        "max_wait": max(waits),
        "all_on_screen": seen_at[0] if seen_at else float("nan"),
        "median_on_screen": statistics.median(on_screen),
        "max_on_screen": max(on_screen),
        "last_submit": offsets[-1],
        "distinct": distinct,
        "cpu": cpu,
        "scenario": base.name,
        "replicates": base.replicates,
        "days": base.days,
        "followers": base.audience.followers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which they press Submit")
    parser.add_argument("--exercise", default="cocktail_party", help="bundled exercise name or file")
    parser.add_argument("--round", type=int, default=1, help="which round of the exercise (1-based)")
    parser.add_argument("--repeat", type=int, default=1, help="classes to time (fresh database each)")
    parser.add_argument("--refresh", type=float, default=3.0, help="facilitator poll, seconds (the page: 3)")
    args = parser.parse_args()

    from coach.experiments import worker_count

    print(f"{args.participants} participants submitting within {args.window:g} s; workers: {worker_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):
            r = one_class(args, Path(tmp), attempt)
            if attempt == 0:
                print(
                    f"round {args.round}: {r['scenario']} ({r['followers']:,} followers, {r['days']} days, "
                    f"{r['replicates']} runs per submission); {r['distinct']} distinct habit sets"
                )
                from coach.experiments import worker_count

                print(
                    f"one submission's ensemble: {r['cpu']:.2f} CPU s; on an idle machine the class needs about "
                    f"{r['distinct'] * r['cpu'] / worker_count():.1f} s of both cores"
                )
            print(
                f"class {attempt + 1}: Submit to own prediction: median {r['median_wait']:.1f} s, slowest "
                f"{r['max_wait']:.1f} s; Submit to the facilitator's screen (polled every {args.refresh:g} s): "
                f"median {r['median_on_screen']:.1f} s, slowest {r['max_on_screen']:.1f} s; the whole class on "
                f"screen {r['all_on_screen']:.1f} s after the first press (last press at {r['last_submit']:.1f} s)"
            )


if __name__ == "__main__":
    main()
