"""Platform presets: how a feed treats the account's posts.

Only three numbers differ between platforms in this model: how far a link post reaches
compared with a text post, whether the feed is ranked (and so discounts an author's second,
third... post in one refresh), and how much out-of-network viewers are discounted.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Platform(BaseModel):
    """Feed mechanics of one platform. Use a preset name or give the values."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False
    )  # "0.5", true, .nan are errors

    name: str = Field("custom", min_length=1, max_length=40, description="label shown in results")
    link_reach: float = Field(
        1.0, ge=0, le=1, description="reach of a link post relative to a text post (X non-Premium 0.1-0.3, E:F5)"
    )
    ranked_feed: bool = Field(
        False, description="ranked feed with an author-diversity discount (E:F2); false = chronological"
    )
    out_of_network: float = Field(1.0, ge=0, le=1, description="multiplier on reach to non-followers (X 0.75, E:F3)")


PRESETS: dict[str, Platform] = {
    "x": Platform(name="x", link_reach=0.2, ranked_feed=True, out_of_network=0.75),
    "mastodon": Platform(name="mastodon", link_reach=1.0, ranked_feed=False, out_of_network=0.6),
    "bluesky": Platform(name="bluesky", link_reach=0.9, ranked_feed=False, out_of_network=0.8),
}
"""The presets a scenario may name. Mastodon has no algorithmic reach to strangers beyond
boosts (lower out-of-network); Bluesky's Following feed is chronological, its Discover
feed mildly favours text (assumed)."""
