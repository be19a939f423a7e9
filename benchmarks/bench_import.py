"""How long `import_history` takes on a 100,000-post export, for each format.

Builds the exports in a temporary folder with the test suite's writers (real formats), pads
X and Mastodon items with the fields real archives carry (so file sizes are realistic: about
1.5 kB per tweet, 2.5 kB per Mastodon activity), then times one import of each. Target from
issue 5: under 5 s for 100,000 posts.

    python benchmarks/bench_import.py [--posts 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from importer_fixtures import (  # noqa: E402
    Truth,
    bluesky_car,
    csv_history,
    mastodon_items,
    mastodon_outbox,
    x_archive,
    x_tweets,
    ytd,
    zip_bytes,
)

from coach.importers import import_history  # noqa: E402


def truths(count: int, seed: int = 5) -> list[Truth]:
    """A three-year history: 60% originals, 10% threads, 20% replies, 10% reposts."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    minutes = sorted(rng.sample(range(3 * 365 * 24 * 60), count))  # distinct: equal records share a CID
    kinds = rng.choices(["original", "self_reply", "reply", "repost"], weights=[60, 10, 20, 10], k=count)
    return [
        Truth(
            start + timedelta(minutes=m),
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


def x_zip(rows: list[Truth]) -> bytes:
    tweets = x_tweets(rows)
    for item in tweets:  # fields every real tweet has, for a realistic file size
        item["tweet"].update(
            edit_info={
                "initial": {
                    "editTweetIds": [item["tweet"]["id_str"]],
                    "editableUntil": "2023-01-01T00:00:00.000Z",
                    "editsRemaining": "5",
                    "isEditEligible": True,
                }
            },
            source='<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
            display_text_range=["0", "140"],
            truncated=False,
            favorited=False,
            lang="en",
            possibly_sensitive=False,
        )
        item["tweet"]["full_text"] += " " + "lorem ipsum dolor sit amet " * 4
    files = x_archive([], extra={})
    files["data/tweets.js"] = ytd("tweets", tweets)
    return zip_bytes(files)


def outbox(rows: list[Truth]) -> bytes:
    items = mastodon_items(rows)
    for item in items:
        obj = item.get("object")
        if isinstance(obj, dict):  # the replies collection and atom fields of a real export
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
    return mastodon_outbox([], items=items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per format; the best is shown")
    args = parser.parse_args()
    rows = truths(args.posts)
    builders = {
        "x (twitter.zip)": ("twitter.zip", x_zip),
        "mastodon (outbox.json)": ("outbox.json", outbox),
        "bluesky (repo.car)": ("repo.car", bluesky_car),
        "csv (history.csv)": ("history.csv", csv_history),
    }
    print(f"import_history on {args.posts:,} posts (built in a temporary folder)")
    with tempfile.TemporaryDirectory() as folder:
        for label, (name, build) in builders.items():
            path = Path(folder) / name
            path.write_bytes(build(rows))
            walls, cpus = [], []
            for _ in range(args.repeat):  # the best of a few runs: this machine is shared
                wall, cpu = time.perf_counter(), time.process_time()
                result = import_history(path, tz="Europe/Berlin")
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            size = path.stat().st_size / 1e6
            print(
                f"  {label:<24} {size:7.1f} MB  {min(walls):6.2f} s wall (best of {args.repeat}), "
                f"{min(cpus):6.2f} s CPU  ({result.evidence['posts']:,} posts read)"
            )
            assert result.evidence["posts"] == len(rows) - sum(1 for r in rows if r.kind == "dm")


if __name__ == "__main__":
    main()
