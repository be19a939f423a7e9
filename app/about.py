"""The About the model tab: how the model works, and which numbers rest on evidence."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from coach import PRESETS, Mechanisms, ModelParams, Platform, Segment

ROOT = Path(__file__).resolve().parent.parent  # the checkout (docs/model.md)

SOURCES = {
    "A2": "Kwak, Chun & Moon, “Fragile online relationship” (CHI 2011): one-way ties break far more often",
    "A3": "Kwak, Chun & Moon (CHI 2011): newer ties are more fragile; many posts in a short time and mundane posts drive unfollows",
    "A5": "Kwak, Moon & Lee, “More of a receiver than a giver” (ICWSM 2012): people who get replies unfollow less",
    "A9": "Buzzstream & Fractl survey (c. 2015): 19% unfollow a brand that posts more than 6 times a day",
    "A10": "Sprout Social Index 2016: too much promotion (46%), irrelevance (41%), too many posts (35%); non-response annoys",
    "A11": "Sprout Social consumer survey: irrelevant content (51%) and poor responsiveness (56%)",
    "A12": "Industry rule of thumb: 1–3% of followers leave per month (a soft prior, not a study)",
    "A14": "An account that stopped posting kept losing followers slowly for years (blog case)",
    "B1": "Hutto, Yardi & Gilbert, “A longitudinal study of follow predictors on Twitter” (CHI 2013): engaging beats broadcasting",
    "B3": "Naaman, Boase & Lai (CSCW 2010): information sharers have 2–3× the followers of “meformers”",
    "B4": "Antoniades & Dovrolis (2015): follow odds ×2.01 per extra post seen, ×27.3 if you already follow them, ×0.989 per post a day",
    "B6": "Myers & Leskovec (WWW 2014): follower growth is steady with sudden bursts",
    "B7": "Freitas et al., socialbot infiltration (ASONAM 2015): activity level drives follower acquisition",
    "B8": "Fronetics (2016): cutting 40 to 15 posts a day cut new followers by 39%",
    "C1": "Kwak, Lee, Park & Moon, “What is Twitter…?” (WWW 2010): 22% of ties are reciprocal",
    "C4": "Suh, Hong, Pirolli & Chi, “Want to be retweeted?” (SocialCom 2010): links and hashtags raise retweeting",
    "C5": "Gonçalves, Perra & Vespignani (2011): people keep 100–200 stable conversational ties",
    "D1": "Track Social brand study (2012): engagement per post drops after about 5 posts a day",
    "D1-D4": "Brand studies (Track Social, Socialbakers, Dashburst, Inntopia): engagement per post falls after 3–5 posts a day",
    "D6": "Rival IQ benchmark 2023: median engagement ≈0.035% per post per follower",
    "E1": "Pfeffer et al., “The half-life of a tweet” (ICWSM 2023): half the impressions within ≈80 minutes",
    "E9": "Sprout Social best-times reports 2023–2025: audiences are online mostly on weekday daytime",
    "F2": "X's open-sourced ranker (AuthorDiversityDiscountProvider): 1, 0.625, 0.44 … floor 0.25",
    "F3": "X's open-sourced ranker (OONTweetScalingScorer): out-of-network posts ×0.75",
    "F5": "Buffer analysis of X (2025): link posts from non-Premium accounts reach far less",
    "G1": "Bass (1969) diffusion: a market fills up, so prospects thin out",
}


def _codes(text: str) -> list[str]:
    return sorted(
        {word.strip(" ,);.")[2:] for word in text.replace("(", " ").replace(",", " ").split() if word.startswith("E:")}
    )


def parameter_rows() -> list[dict[str, str]]:
    """Every number of the model with its value and basis: evidence (E:xx) or assumption."""
    rows = []
    groups = [
        ("model constant", ModelParams, ModelParams()),
        ("follower default", Segment, Segment(name="general", share=1.0)),
        ("platform", Platform, PRESETS["x"]),
    ]
    for group, model, instance in groups:
        for name, info in model.model_fields.items():
            desc = info.description or ""
            codes = _codes(desc)
            if name in ("mechanisms", "name", "share") or (group != "model constant" and not codes):
                continue
            if "assumed" in desc:
                basis = "assumption, guided by evidence" if codes else "assumption"
            else:
                basis = "evidence" if codes else "—"
            value = getattr(instance, name)
            shown = f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
            if group == "platform":
                shown = ", ".join(f"{p}: {getattr(PRESETS[p], name)}" for p in PRESETS)
                basis = "evidence for x; assumption for the others"
            rows.append(
                {
                    "number": name,
                    "value": shown,
                    "basis": basis,
                    "sources": ", ".join(f"E:{c}" for c in codes),
                    "meaning": desc,
                    "kind": group,
                }
            )
    return rows


def about_tab() -> None:
    st.markdown(
        """
### What is it?
Cadence Coach simulates **one social-media account** — its habits, its followers and the
people who might follow it — day by day, and shows how many people are likely to follow
and unfollow it over the coming weeks, **why** they come and go, and how that changes when
the habits change. It is a teaching and planning instrument, not an oracle: it turns
well-known advice ("it's a cocktail party, not a billboard") into numbers you can argue with.

### How it works
Every run follows the account hour by hour. Each follower is a row in a table; each post,
reply and day's end acts on all of them at once. The same settings are run many times with
different luck, and the page shows the **median** and the range covering **80% of runs**.

- **Exposure.** A post is seen by some of your followers: those online at that hour, paying
  attention, on a feed that may show links less or hide your third post in a row.
  Posts at 3 a.m. for a daytime audience reach fewer people.
- **Fatigue.** Each follower keeps a short memory of how many of your posts they saw.
  Past their own tolerance (a few posts a day for most people) they start to leave —
  and bursts hurt more than the same posts spread out.
- **Content fit.** Every post nudges each follower's satisfaction: links please people who
  came for news and tire people who came to talk; self-promotion annoys almost everyone;
  questions please the chatty. Long dissatisfaction makes people leave ("not for me").
- **Conversation.** Followers reply. Answer them and they are pleased and stay longer (a bond
  that lasts weeks); ignore them and they sour. Public answers are seen by others too.
- **Outreach.** Replies you leave on other people's posts put you in front of new people.
- **Discovery and the follow decision.** New people find you through reshares, your
  answers, your outreach and search. They glance at your recent posts: do they fit, do you
  talk with people, have they seen you before, do you already follow them?
- **Neglect.** A quiet account slowly loses people and almost stops gaining them.
- **Ordinary churn.** Some people leave anyway; newer one-way ties leave more than old or
  mutual ones.

Every unfollow gets **one reason** and every follow **one channel**, which is how the page
can say *why* people left.

### Things to notice
- The band is wide for small accounts: a single reshare can bring a burst of followers.
- More posts bring more reach **and** more fatigue: the best rate sits in the middle, and it
  is higher for an audience that came for news.
- Answering replies barely shows in the first weeks, then keeps people for months.
- The same number of posts in one scheduled burst loses more people than spread out.

### Things to try
- On **The Steady Professional**, raise *Posts per day* step by step and watch
  "too many posts" grow in *Why people left*.
- Compare **The Billboard** with **The Conversationalist** in the Compare tab.
- Raise *Link share* on a chatty audience, then on **The Niche News Curator**.
- Set *Posts per sitting* to 5 with the same posts per day (a scheduler's dump).
- Switch the platform between X and Mastodon with many links.

### Limits
- One account, an audience described by a few kinds of follower, no network of who
  follows whom, no viral content quality, no news events, no paid promotion.
- Most strengths of effects are **assumptions** (see the table below), chosen so the
  model reproduces published patterns; directions are better supported than sizes.
- The surveys behind fatigue and content effects were mostly about brands.
- Treat differences between settings (on the same seeds) as more trustworthy than the
  absolute numbers.
"""
    )
    st.markdown("### Which numbers rest on evidence, and which are assumptions")
    st.caption(
        "Every constant of the model, its value and its basis: **evidence** (a published figure), or an **assumption** "
        "(our calibrated guess, sometimes with its direction from evidence). Codes refer to the sources listed below."
    )
    rows = parameter_rows()
    # Static tables wrap their text, so the long "meaning" column is read in full at 1280 px
    # (a data frame cut it at the cell's edge); the long list scrolls inside its own box.
    with st.container(height=560, key="constants_table"):
        st.table(rows, hide_index=True)
    st.markdown("**Mechanisms** (each can be switched off in a scenario's `model.mechanisms` for experiments)")
    st.table(
        [{"mechanism": k, "what it does": v.description} for k, v in Mechanisms.model_fields.items()],
        hide_index=True,
    )
    st.markdown("**Platforms**")
    st.dataframe(
        [
            {
                "platform": p.name,
                "link reach vs text": p.link_reach,
                "ranked feed": p.ranked_feed,
                "reach to non-followers": p.out_of_network,
            }
            for p in PRESETS.values()
        ],
        hide_index=True,
        width="stretch",
    )
    st.markdown("**Sources** (evidence codes in the table)")
    used = {code[2:] for row in rows for code in row["sources"].split(", ") if code}
    st.markdown("\n".join(f"- **E:{code}** — {text}" for code, text in SOURCES.items() if code in used or not used))
    model_doc = ROOT / "docs" / "model.md"
    if model_doc.exists():
        with st.expander("The full model documentation (docs/model.md)"):
            st.markdown(model_doc.read_text(encoding="utf-8"))
