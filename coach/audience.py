"""The crowd: every follower as one row of a struct of numpy arrays.

Never one Python object per follower. Arrays are over-allocated (``capacity``) and rows
past ``n`` are kept zeroed, so new followers append cheaply; a leaver's row is *retired* in place (it can no longer see posts, feel
hazards or leave again) and retired rows are compacted away in bulk once they pass a tenth of
the crowd. Compaction keeps join order, so ``uid`` stays sorted and :meth:`Crowd.locate` is
a binary search.

Accumulators that decay exponentially (satisfaction, remembered ignored replies) are stored
*scaled*: the true value is ``stored * exp(-(t - t_ref) / tau)``. Adding at time ``t`` adds
``x * exp((t - t_ref) / tau)``, so decay costs nothing per event; :meth:`Crowd.rebase`
folds the decay in once a day to keep the numbers small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

F32 = np.float32

# Per-follower fields and their dtypes; the order is the order of the docstring below.
FIELDS: dict[str, type] = {
    "uid": np.int64,  # stable id, increasing in join order
    "segment": np.int8,  # index into the scenario's audience segments
    "tolerance": F32,  # posts/day this follower tolerates before fatigue
    "attention": F32,  # chance of seeing a post while online (segment trait, cached)
    "chat": F32,  # chat appetite 0..1 (segment trait, cached)
    "reply_will": F32,  # 1 = replies as usual; lowered each time a reply is ignored
    "sat": F32,  # satisfaction, scaled (see module docstring)
    "ignored": F32,  # remembered ignored replies, scaled
    "fatigue": F32,  # fatigue hazard accumulated since the last close
    "bonded_until": F32,  # hour until which an answer keeps this follower bonded
    "tie_start": F32,  # hour the follow began (negative for starting followers)
    "reciprocal": np.bool_,  # the account follows them back
    "churn": F32,  # background churn hazard per day, with the reciprocal discount applied
    "budget": F32,  # Exp(1) hazard budget: the follower leaves when `spent` reaches it
    "spent": F32,  # cumulative unfollow hazard
}


@dataclass
class Crowd:
    """The followers, as arrays of length ``capacity`` of which the first ``n`` are live."""

    arrays: dict[str, np.ndarray]
    n: int = 0
    retired: int = 0  # rows of followers who left, not yet compacted away
    next_uid: int = 0
    segment_traits: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, capacity: int, segment_traits: dict[str, np.ndarray]) -> Crowd:
        """A crowd with room for ``capacity`` followers; traits are per-segment arrays."""
        capacity = max(16, capacity)
        arrays = {name: np.zeros(capacity, dtype=dtype) for name, dtype in FIELDS.items()}
        return cls(arrays=arrays, segment_traits=segment_traits)

    def __getattr__(self, name: str) -> np.ndarray:
        # Live views, e.g. crowd.sat -> arrays["sat"][:n]. Only called for unknown attributes.
        arrays = self.__dict__.get("arrays")
        if arrays is not None and name in arrays:
            return arrays[name][: self.n]
        raise AttributeError(name)

    @property
    def followers(self) -> int:
        """How many follow now (live rows)."""
        return self.n - self.retired

    @property
    def capacity(self) -> int:
        return len(self.arrays["uid"])

    def add(
        self,
        segments: np.ndarray,
        hour: float,
        reciprocal: np.ndarray,
        rng: np.random.Generator,
        tolerance_spread: float,
        reciprocal_ratio: float = 1.0,
    ) -> None:
        """Append new followers of the given segments who follow from ``hour`` on.

        ``reciprocal_ratio`` multiplies the churn of reciprocal ties.
        """
        k = len(segments)
        if k == 0:
            return
        if self.n + k > self.capacity:
            self._grow(self.n + k)
        s = slice(self.n, self.n + k)
        a = self.arrays
        traits = self.segment_traits
        a["uid"][s] = np.arange(self.next_uid, self.next_uid + k)
        a["segment"][s] = segments
        median = traits["tolerance"][segments]
        a["tolerance"][s] = median * np.exp(tolerance_spread * rng.standard_normal(k)).astype(F32)
        a["attention"][s] = traits["attention"][segments]
        a["chat"][s] = traits["chat"][segments]
        a["reply_will"][s] = 1.0
        # sat, ignored, fatigue, bonded_until and spent start at zero: spare rows are kept zeroed.
        a["tie_start"][s] = hour
        a["reciprocal"][s] = reciprocal
        a["churn"][s] = traits["churn"][segments] * np.where(reciprocal, F32(reciprocal_ratio), F32(1))
        a["budget"][s] = rng.exponential(1.0, k)
        self.n += k
        self.next_uid += k

    def _grow(self, needed: int) -> None:
        capacity = max(needed, int(self.capacity * 1.5))
        for name, old in self.arrays.items():
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            self.arrays[name] = new

    def retire(self, rows: np.ndarray) -> None:
        """These followers left: neutralise their rows; compact once many have left."""
        a = self.arrays
        for name in ("attention", "chat", "sat", "ignored", "churn", "reply_will", "bonded_until", "fatigue"):
            a[name][rows] = 0.0
        a["budget"][rows] = np.inf  # never leaves twice
        self.retired += len(rows)
        if self.retired > max(32, self.n // 10):
            self.keep(np.isfinite(a["budget"][: self.n]))

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where ``mask`` is False, keeping join order."""
        k = int(mask.sum())
        if k != self.n:
            for arr in self.arrays.values():
                arr[:k] = arr[: self.n][mask]
                arr[k : self.n] = 0  # spare rows stay zeroed, so add() need not clear them
        self.n = k
        self.retired = int(np.count_nonzero(~np.isfinite(self.arrays["budget"][:k])))

    def locate(self, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the uids still following, and a mask over ``uids`` of those found."""
        found = np.zeros(len(uids), dtype=bool)
        if len(uids) == 0 or self.n == 0:
            return np.empty(0, dtype=np.int64), found
        live = self.arrays["uid"][: self.n]
        rows = np.minimum(np.searchsorted(live, uids), self.n - 1)
        found = (live[rows] == uids) & np.isfinite(self.arrays["budget"][rows])
        return rows[found], found

    def rebase(self, factors: dict[str, float]) -> None:
        """Fold elapsed decay into scaled accumulators: ``arrays[name] *= factor``."""
        for name, factor in factors.items():
            self.arrays[name][: self.n] *= F32(factor)
