"""Print the stylized facts of MODEL.md §6 for the current defaults (a calibration aid).

Usage: python benchmarks/calibrate.py [replicates]
The tests in tests/test_stylized_facts.py assert these with margins; this prints the
underlying numbers so a person tuning ModelParams can see where each fact stands.
"""

from __future__ import annotations

import sys

import numpy as np

from coach import PRESETS, Audience, Habits, Scenario, Segment, compare, run_many

R = int(sys.argv[1]) if len(sys.argv) > 1 else 8
GENERAL = Audience(followers=1000, prospects_per_day=40)
NEWS = Audience(
    followers=1000,
    prospects_per_day=40,
    segments=(
        Segment(
            name="news", share=1.0, link_appetite=0.8, chat_appetite=0.2, tolerance_posts_per_day=30, attention=0.25
        ),
    ),
)


def med(e, name):
    return float(np.median(e.values(name)))


def steady() -> Scenario:
    return Scenario(name="steady", habits=Habits(posts_per_day=2, link_share=0.2, reply_rate=0.5), audience=GENERAL)


def main() -> None:
    base = steady()
    e = run_many(base, R, parallel=False)
    monthly = med(e, "unfollows") / base.audience.followers / 3
    print(
        f"F1 unfollows per month: {monthly:.2%} (target 1-3%)   reasons:",
        {r: med(e, f"unfollows_{r}") for r in ("fatigue", "content", "ignored", "neglect", "churn")},
        " follows:",
        {c: med(e, f"follows_{c}") for c in ("reshare", "conversation", "outreach", "discovery")},
    )

    rates = [0.5, 1, 2, 3, 5, 8, 12, 20, 40]
    for label, audience in (("general", GENERAL), ("news", NEWS)):
        es = compare([base.model_copy(update={"audience": audience}).with_habits(posts_per_day=r) for r in rates], R, 7)
        nets = [med(x, "net") for x in es]
        epp = [med(x, "engagement_per_post") for x in es]
        tot = [med(x, "engagements_per_day") for x in es]
        fat = [med(x, "unfollows_fatigue") for x in es]
        print(
            f"F2 {label}: net by posts/day",
            dict(zip(rates, [round(v) for v in nets], strict=True)),
            "peak at",
            rates[int(np.argmax(nets))],
        )
        print(
            "   F7 engagement/post",
            [round(v, 1) for v in epp],
            " per day",
            [round(v) for v in tot],
            " fatigue",
            [round(v) for v in fat],
        )

    spread, burst = compare(
        [base.with_habits(posts_per_day=8), base.with_habits(posts_per_day=8, posts_per_session=8)], R, 7
    )
    print(
        f"F3 8/day spread vs bursts of 8: net {med(spread, 'net'):.0f} vs {med(burst, 'net'):.0f}; fatigue {med(spread, 'unfollows_fatigue'):.0f} vs {med(burst, 'unfollows_fatigue'):.0f}"
    )

    es = compare([base.with_habits(reply_rate=r) for r in (0, 0.25, 0.5, 0.75, 1.0)], R, 7)
    print(
        "F4 net by reply_rate 0..1:",
        [round(med(x, "net")) for x in es],
        " ignored:",
        [round(med(x, "unfollows_ignored")) for x in es],
    )

    chat = Audience(
        followers=1000, segments=(Segment(name="chatters", share=1, link_appetite=-0.6, chat_appetite=0.9),)
    )
    low, high = compare(
        [base.model_copy(update={"audience": chat}).with_habits(link_share=x, question_share=0.1) for x in (0.1, 0.8)],
        R,
        7,
    )
    print(
        f"F5 chatters content unfollows: links 10% {med(low, 'unfollows_content'):.0f} vs 80% {med(high, 'unfollows_content'):.0f}"
    )
    low, high = compare(
        [base.model_copy(update={"audience": NEWS}).with_habits(link_share=x, question_share=0.1) for x in (0.1, 0.8)],
        R,
        7,
    )
    print(f"   news seekers follows: links 10% {med(low, 'follows'):.0f} vs 80% {med(high, 'follows'):.0f}")
    linky = base.with_habits(link_share=1.0, question_share=0, promo_share=0)
    x, m = compare([linky.model_copy(update={"platform": PRESETS["x"]}), linky], R, 7)
    print(
        f"   impressions/post x vs mastodon: {med(x, 'impressions_per_post'):.0f} vs {med(m, 'impressions_per_post'):.0f}"
    )

    ghost, active = compare([base.with_habits(posts_per_day=0), base], R, 7)
    print(
        f"F6 silent: follows {med(ghost, 'follows'):.0f} vs {med(active, 'follows'):.0f}; net {med(ghost, 'net'):.0f}"
    )

    daily = e.series("follows")[:, 10:]
    print(f"F9 daily follows variance/mean: {np.mean(daily.var(axis=1) / daily.mean(axis=1)):.2f}")


if __name__ == "__main__":
    main()
