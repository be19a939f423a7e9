"""Time and peak memory of `import_history` on real-shaped exports (issue 11 item 19).

Builds, in a temporary folder, exports shaped like real ones:

- X: a zipped archive whose ``data/tweets.js`` holds ``--posts`` tweets (default 200,000)
  with every field a real 2023 ``tweets.js`` carries (``tweet`` wrapper, ``edit_info``,
  ``entities`` with hashtags/symbols/user_mentions/urls and their ``indices``,
  ``extended_entities`` media with sizes on a third of them, ``display_text_range``,
  counts as strings, ``created_at`` in Twitter's format, ``source`` HTML), pretty-printed
  the way X writes it: ~2 kB per tweet. Its ~2,000 distinct tweets are rendered once by the
  test suite's writer and repeated with fresh ids and times, which keeps building fast;
- Mastodon: a compact ``outbox.json`` (as Mastodon writes it) with the atom and replies
  fields of a real export (~2.5 kB per activity), ``--others`` activities;
- Bluesky: a ``repo.car`` with a commit and a Merkle Search Tree, ``--others`` records.

Each import runs in a fresh subprocess (`python -c`), which prints its wall and CPU time
(including ``import coach``, shown apart) and its peak resident memory (``VmHWM``; ``resource.getrusage`` maxrss
where /proc is missing). Targets: 200,000 tweets in ≤ 5 s and
< 1 GB. The machine may be shared: the median of ``--repeat`` runs is shown, with CPU time.

    python benchmarks/bench_import.py [--posts 200000] [--others 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from importer_fixtures import (  # noqa: E402
    Truth,
    bluesky_car,
    mastodon_items,
    mastodon_outbox,
    x_archive,
    x_real_shape,
    x_tweets,
)

DISTINCT = 2_000  # distinct tweets rendered; the file repeats them with new ids and times
START = datetime(2021, 1, 1, tzinfo=UTC)

# Peak memory is the child's VmHWM: getrusage's maxrss survives exec on Linux, so a child of
# this (large) builder process would report the builder's peak.
CHILD = """
import re, resource, sys, time
wall, cpu = time.perf_counter(), time.process_time()
from coach.importers import import_history
startup = time.process_time() - cpu
result = import_history(sys.argv[1], tz="Europe/Berlin")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
try:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
except (OSError, AttributeError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(wall, cpu, peak, result.evidence["posts"], startup)
"""


def truths(count: int, seed: int = 5) -> list[Truth]:
    """A history: 60% originals, 10% threads, 20% replies, 10% reposts, links, questions, counts."""
    rng = random.Random(seed)
    minutes = sorted(rng.sample(range(3 * 365 * 24 * 60), count))  # distinct: equal records share a CID
    kinds = rng.choices(["original", "self_reply", "reply", "repost"], weights=[60, 10, 20, 10], k=count)
    return [
        Truth(
            START + timedelta(minutes=m),
            kind,
            link=rng.choices(["external", "quote", None], weights=[25, 5, 70])[0],
            question=rng.random() < 0.15,
            mention=rng.random() < 0.3,
            hashtag=rng.random() < 0.2,
            likes=rng.randrange(50),
            shares=rng.randrange(5),
        )
        for m, kind in zip(minutes, kinds, strict=True)
    ]


def x_tweets_js(count: int) -> bytes:
    """``window.YTD.tweets.part0 = [...]`` with ``count`` real-shaped tweets, laid out as X writes it."""
    rows = truths(DISTINCT)
    rendered = []
    for k, item in enumerate(x_tweets(rows)):
        tweet_id = item["tweet"]["id_str"]
        parent = (
            item["tweet"].get("in_reply_to_status_id_str")
            if item["tweet"].get("in_reply_to_user_id_str") == "1000"
            else None
        )
        text = json.dumps(x_real_shape(item, media=k % 3 == 0), indent=2, separators=(",", " : "), ensure_ascii=False)
        # Placeholders for what must differ between copies: ids (also of media and of a thread's parent) and times.
        if parent:
            text = text.replace(f'"{parent}"', '"@PARENT@"')
        text = text.replace(tweet_id, "@ID@").replace(str(int(tweet_id) + 1), "@MID@")
        text = text.replace(item["tweet"]["created_at"], "@TIME@")
        rendered.append("  " + text.replace("\n", "\n  "))
    gap = 3 * 365 * 24 * 60 // count  # minutes between tweets
    parts, previous = [], "1"
    for n in range(count):
        template = rendered[n % DISTINCT]
        tweet_id = str(1_600_000_000_000_000_000 + 2 * n)
        when = (START + timedelta(minutes=gap * n, seconds=n % 60)).strftime("%a %b %d %H:%M:%S +0000 %Y")
        text = template.replace("@ID@", tweet_id).replace("@MID@", str(int(tweet_id) + 1)).replace("@TIME@", when)
        text = text.replace("@PARENT@", previous)  # a thread continues the tweet before it
        previous = tweet_id
        parts.append(text)
    return ("window.YTD.tweets.part0 = [\n" + ",\n".join(parts) + "\n]").encode()


def x_zip(path: Path, count: int) -> None:
    files = x_archive([])
    files["data/tweets.js"] = x_tweets_js(count)
    # Level 1 builds fast; unpacking costs about the same at any level.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def outbox(path: Path, count: int) -> None:
    items = mastodon_items(truths(count))
    for item in items:
        obj = item.get("object")
        if isinstance(obj, dict):  # the atom and replies fields of a real export
            obj.update(
                atomUri=obj["id"],
                inReplyToAtomUri=obj["inReplyTo"],
                conversation=f"tag:masto.example,2022-11-08:objectId={obj['id'][-9:]}:objectType=Conversation",
                replies={
                    "id": obj["id"] + "/replies",
                    "type": "Collection",
                    "first": {
                        "type": "CollectionPage",
                        "next": obj["id"] + "/replies?only_other_accounts=true&page=true",
                        "partOf": obj["id"] + "/replies",
                        "items": [],
                    },
                },
            )
            obj["content"] = obj["content"].replace("</p>", " " + "lorem ipsum dolor sit amet " * 4 + "</p>")
            obj["contentMap"] = {"en": obj["content"]}
    raw = mastodon_outbox([], items=items, duplicate_key="empty_first")
    path.write_bytes(json.dumps(json.loads(raw), separators=(",", ":")).encode())  # compact, as Mastodon writes


def measure(path: Path, repeat: int) -> tuple[float, float, float, int, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append((float(out[0]), float(out[1]), int(out[2]), int(out[3]), float(out[4])))
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        max(r[2] for r in runs) / 1e6,
        runs[0][3],
        statistics.median(r[4] for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000, help="tweets in the X archive")
    parser.add_argument("--others", type=int, default=100_000, help="posts in the Mastodon and Bluesky exports")
    parser.add_argument("--repeat", type=int, default=3, help="runs per export; the median is shown")
    parser.add_argument("--only", choices=("x", "mastodon", "bluesky"), help="benchmark one format")
    args = parser.parse_args()
    builders = {
        "x": ("twitter.zip", lambda p: x_zip(p, args.posts), args.posts),
        "mastodon": ("outbox.json", lambda p: outbox(p, args.others), args.others),
        "bluesky": ("repo.car", lambda p: p.write_bytes(bluesky_car(truths(args.others))), args.others),
    }
    print(f"import_history on real-shaped exports; median of {args.repeat} runs, each in a fresh process")
    with tempfile.TemporaryDirectory() as folder:
        for label, (name, build, count) in builders.items():
            if args.only and label != args.only:
                continue
            path = Path(folder) / name
            build(path)
            wall, cpu, peak, posts, startup = measure(path, args.repeat)
            print(
                f"  {label:<9} {name:<12} {count:>9,} posts  {path.stat().st_size / 1e6:7.1f} MB on disk  "
                f"{wall:6.2f} s wall  {cpu:6.2f} s CPU (of which {startup:.2f} s `import coach`)  "
                f"peak {peak:6.0f} MB  ({posts:,} posts read)"
            )
            path.unlink()


if __name__ == "__main__":
    main()
