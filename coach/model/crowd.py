"""The crowd: every follower of every replicate as one cell of a replicates x capacity grid.

Never one Python object per follower. Each field is one C-contiguous ``(R, capacity)``
array, stored flat (``arrays[name]``, length ``R * capacity``) so an event over all
replicates is one numpy call, with 2-D views for per-replicate work (:meth:`Crowd.grid`).
Replicate ``b``'s followers are the first ``n[b]`` cells of its row; the cells past ``n[b]``
are *spare*: attention 0 (they never see a post), budget infinite (they never leave), uid
the sentinel :data:`SPARE_UID`. New followers take spare cells at the end of a row; a
leaver's cell is *retired* in place (it can no longer see posts, feel hazards or leave again)
and a row is compacted once its retired cells pass a tenth of it. Compaction keeps join
order, so within a row ``uid`` and ``tie_start`` never decrease, and the flat array of
:meth:`Crowd.keys` (``b * UID_STRIDE + uid``) is sorted: :meth:`Crowd.locate` is one binary
search for any mix of replicates.

Accumulators that decay exponentially (satisfaction, remembered ignored replies) are stored
*scaled*: the true value is ``stored * exp(-(t - t_ref) / tau)``. Adding at time ``t`` adds
``x * exp((t - t_ref) / tau)``, so decay costs nothing per event; :meth:`Crowd.rebase`
folds the decay in now and then to keep the numbers small.

Which module owns which field: ``tolerance`` and ``fatigue`` (:mod:`coach.model.fatigue`),
``sat`` (:mod:`coach.model.content`), ``reply_will``, ``ignored_chat``, ``bonded_until``
(:mod:`coach.model.conversation`), ``tie_start``, ``reciprocal``, ``churn``
(:mod:`coach.model.churn`), ``attention`` (:mod:`coach.model.exposure`); ``budget`` is the
competing-hazards clock of the day's close and ``reason_u`` the draw of the
reason a leaver gives (:mod:`coach.model.day`).
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np

F32 = np.float32
UID_STRIDE = 1 << 40  # uids of one replicate stay below this
HUGE_PAGE = 2 << 20  # bytes: fields this large are asked to live on huge pages
SPARE_UID = UID_STRIDE - 1  # uid of spare cells: sorts after every real follower of the row
SEED_BLOCK = 1 << 16  # starting followers drawn at once (their uniforms: 3.5 MB)

# Per-follower fields and their dtypes.
FIELDS: dict[str, type] = {
    "uid": np.int64,  # stable id within the replicate, increasing in join order
    "segment": np.int8,  # index into the scenario's audience segments
    "tolerance": F32,  # posts/day this follower tolerates before fatigue
    "attention": F32,  # chance of seeing a post while online (segment trait; 0 = cannot see)
    "reply_will": F32,  # 1 = replies as usual; lowered each time a reply is ignored
    "sat": F32,  # satisfaction, scaled (see module docstring)
    "ignored_chat": F32,  # remembered ignored replies times the chat appetite (what the hazard reads), scaled
    "fatigue": F32,  # fatigue hazard accumulated since the last close
    "bonded_until": F32,  # hour until which an answer keeps this follower bonded
    "tie_start": F32,  # hour the follow began (negative for starting followers)
    "reciprocal": np.bool_,  # the account follows them back
    "churn": F32,  # background churn hazard per day, with the reciprocal discount applied
    "churn_now": F32,  # today's churn hazard per day: churn, times new_tie_ratio while the tie is new
    "budget": F32,  # hazard budget left: Exp(1) at the follow, less each day's hazards; spent (<= 0): leaves
    "reason_u": F32,  # uniform on [0, 1) that draws the reason when this follower leaves (once)
}
SPARE = {"uid": SPARE_UID, "budget": np.inf}  # values of spare cells; every other field is 0
RETIRED_ZERO = (
    "attention",
    "sat",
    "ignored_chat",
    "churn",
    "churn_now",
    "reply_will",
    "bonded_until",
    "fatigue",
)


@dataclass(frozen=True)
class Marked:
    """Some followers, remembered by cell (valid while ``moves`` holds) and by uid and replicate (stable)."""

    cells: np.ndarray
    uids: np.ndarray
    replicates: np.ndarray
    moves: int

    @property
    def keys(self) -> np.ndarray:
        """Their keys (:meth:`Crowd.keys`), to find them with :meth:`Crowd.locate` once cells have moved."""
        return self.replicates * UID_STRIDE + self.uids

    def __len__(self) -> int:
        return len(self.cells)


class Crowd:
    """The followers of ``R`` replicates; replicate ``b`` owns cells ``[b, :n[b]]``."""

    def __init__(self, replicates: int, capacity: int):
        self.R = replicates
        self.C = max(16, int(capacity))
        self.arrays = {name: _field(self.R * self.C, name) for name in FIELDS}
        self.n = np.zeros(self.R, dtype=np.int64)  # cells in use per replicate (live + retired)
        self.retired = np.zeros(self.R, dtype=np.int64)  # retired cells not yet compacted away
        self.next_uid = np.zeros(self.R, dtype=np.int64)
        self.moves = 0  # times cells moved (compaction, growth): a stored cell index is valid while it holds
        self._keys: np.ndarray | None = None

    # -- views -----------------------------------------------------------------------------

    def grid(self, name: str) -> np.ndarray:
        """The ``(R, capacity)`` view of one field."""
        return self.arrays[name].reshape(self.R, self.C)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    @property
    def followers(self) -> np.ndarray:
        """How many follow now, per replicate."""
        return self.n - self.retired

    @property
    def span(self) -> int:
        """Length of the flat prefix holding every cell in use (the last row's spare tail is cut)."""
        return int((self.R - 1) * self.C + self.n[-1])

    def keys(self) -> np.ndarray:
        """Sorted flat keys ``b * UID_STRIDE + uid`` (cached until the crowd's rows change)."""
        if self._keys is None:
            offsets = np.arange(self.R, dtype=np.int64)[:, None] * UID_STRIDE
            self._keys = (self.grid("uid") + offsets).reshape(-1)
        return self._keys

    def mark(self, cells: np.ndarray, replicates: np.ndarray, uids: np.ndarray | None = None) -> Marked:
        """Remember these followers (``replicates``: their rows) to find them later, also after cells moved.

        ``uids``: theirs, when the caller has them already (the post pass writes them with the
        cells); else read here. While no cell has moved (``marked.moves == crowd.moves``) their
        cells are still theirs: new followers take spare cells and leavers are retired in place
        (budget infinite).
        """
        return Marked(cells, self.arrays["uid"][cells] if uids is None else uids, replicates, self.moves)

    def locate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cells of the keyed followers still following, and a mask over ``keys`` of those found."""
        if len(keys) == 0:
            return np.empty(0, dtype=np.int64), np.zeros(0, dtype=bool)
        all_keys = self.keys()
        cells = np.minimum(np.searchsorted(all_keys, keys), len(all_keys) - 1)
        found = (all_keys[cells] == keys) & np.isfinite(self.arrays["budget"][cells])
        return cells[found], found

    # -- changes ---------------------------------------------------------------------------

    def admit(self, replicate: np.ndarray, segment: np.ndarray, reciprocal: np.ndarray, noise: np.ndarray,
              budget: np.ndarray, reason_u: np.ndarray, hour: float, traits: tuple, laws: tuple) -> np.ndarray:  # fmt: skip
        """New followers, from ``hour``, take spare cells at the ends of their rows; returns their cells.

        ``replicate`` sorted; ``noise`` the standard normal of each one's tolerance; ``traits``
        and ``laws`` as :func:`coach.model.kernels.admit` takes them. The other fields keep
        their spare value 0.
        """
        from coach.model.fatigue import tolerance_of  # these modules import this one
        from coach.model.kernels import admit_many

        if len(replicate) > self.C - int(self.n.max()):  # (on most days all fit without counting them)
            self.reserve(np.bincount(replicate, minlength=self.R))
        tolerance = tolerance_of(traits[0][segment], laws[0], noise)
        cells = admit_many(
            self._admit_fields(), traits, laws, self.C, self.n, self.next_uid, replicate, segment, reciprocal,
            tolerance, budget, reason_u, F32(hour),
        )  # fmt: skip
        self._keys = None
        return cells

    def reserve(self, counts: np.ndarray) -> None:
        """Make room for ``counts[b]`` more followers in each replicate's row (grows the grid if needed)."""
        needed = int((self.n + counts).max())
        if needed > self.C:
            self._grow(needed)

    def seed(self, keys: np.ndarray, count: int, share_cdf: np.ndarray, follow_back_rate: float, mean_age: float,
             traits: tuple, laws: tuple) -> None:  # fmt: skip
        """The starting followers: ``count`` in each replicate's (empty) row, from each replicate's ``keys``.

        Per follower (uniforms of :func:`coach.model.kernels.seed_uniforms`): a segment by
        ``share_cdf``, reciprocal with ``follow_back_rate``, a standard normal tolerance noise
        (Box-Muller), an Exp(1) budget and a reason uniform. Starting ties are of mixed age,
        exponential around ``mean_age`` hours; their starts are written sorted, oldest first
        (tie starts never decrease along a row), without sorting: the ascending order
        statistics of ``count`` exponentials are cumulative sums of exponential spacings over
        ``count - i`` (Rényi), read backwards. Drawn in blocks of at most :data:`SEED_BLOCK`
        followers (rows, or pieces of a long row), so the uniforms need a few megabytes at
        any crowd size.
        """
        from coach.model.fatigue import tolerance_of  # these modules import this one
        from coach.model.kernels import SEED_UNIFORMS, seed_rows, seed_uniforms

        assert not self.n.any(), "the starting followers go into empty rows"
        self.reserve(np.full(self.R, count))
        last_segment = len(share_cdf) - 1
        spacing = mean_age / (count - np.arange(count))  # the k-th spacing's scale, over count - k
        cols = min(count, SEED_BLOCK)
        rows = max(1, SEED_BLOCK // cols)
        tie = self.grid("tie_start")
        fields = self._admit_fields()
        for first in range(0, self.R, rows):
            block = keys[first : first + rows]
            # The ties first: the k-th youngest is the sum of the first k spacings, written
            # from the row's end, block by block with the sum carried.
            age = np.zeros(len(block))
            for c0 in range(0, count, cols):
                c1 = min(count, c0 + cols)
                u = np.empty((len(block), 1, c1 - c0))
                seed_uniforms(block, c0, SEED_UNIFORMS - 1, u)
                ages = age[:, None] + np.cumsum(_exponential(u[:, 0], 1.0) * spacing[c0:c1], axis=1)
                age = ages[:, -1]
                tie[first : first + len(block), count - c1 : count - c0] = -ages[:, ::-1]
            # Then every follower in order, each given the tie start just written.
            for c0 in range(0, count, cols):
                c1 = min(count, c0 + cols)
                u = np.empty((len(block), SEED_UNIFORMS - 1, c1 - c0))
                seed_uniforms(block, c0, 0, u)
                segment = np.minimum(np.searchsorted(share_cdf, u[:, 0]), last_segment).astype(np.int8)
                noise = _exponential(u[:, 2], 2.0) ** 0.5 * np.cos(F32(2 * np.pi) * u[:, 3].astype(F32))  # Box-Muller
                seed_rows(
                    fields, traits, laws, self.C, self.n, self.next_uid, first, segment, u[:, 1] < follow_back_rate,
                    tolerance_of(traits[0][segment], laws[0], noise), _exponential(u[:, 4], 1.0).astype(F32),
                    u[:, 5].astype(F32), tie[first : first + len(block), c0:c1].copy(),
                )  # fmt: skip
        self._keys = None

    def _admit_fields(self) -> tuple[np.ndarray, ...]:
        """The flat arrays a compiled admission writes (:data:`coach.model.kernels.ADMIT_FIELDS`), after any growth."""
        from coach.model.kernels import ADMIT_FIELDS

        return tuple(self.arrays[name] for name in ADMIT_FIELDS)

    def _grow(self, needed: int) -> None:
        capacity = max(needed, int(self.C * 1.5))
        for name, old in self.arrays.items():  # one field at a time: the peak is one old field, not all
            new = _field(self.R * capacity, name)
            new.reshape(self.R, capacity)[:, : self.C] = old.reshape(self.R, self.C)
            self.arrays[name] = new
        self.C = capacity
        self.moves += 1
        self._keys = None

    def retire(self, cells: np.ndarray) -> None:
        """These followers left: neutralise their cells; compact rows where many have left."""
        from coach.model.kernels import retire_cells  # the kernels import this module

        a = self.arrays
        zeroed = tuple(a[name] for name in RETIRED_ZERO)  # budget: infinite, never leaves twice
        if retire_cells(np.asarray(cells, dtype=np.int64), self.C, zeroed, a["budget"], self.retired, self.n):
            for b in np.flatnonzero(self.retired > np.maximum(32, self.n // 10)):
                self._compact(int(b))

    def _compact(self, b: int) -> None:
        """Drop replicate ``b``'s retired cells, keeping join order."""
        n = int(self.n[b])
        row = slice(b * self.C, b * self.C + n)
        live = np.isfinite(self.arrays["budget"][row])
        k = int(live.sum())
        for name, arr in self.arrays.items():
            cells = arr[row]
            cells[:k] = cells[live]
            cells[k:] = SPARE.get(name, 0)
        self.n[b] = k
        self.retired[b] = 0
        self.moves += 1
        self._keys = None

    def rebase(self, factors: dict[str, float]) -> None:
        """Fold elapsed decay into scaled accumulators: ``arrays[name] *= factor``."""
        for name, factor in factors.items():
            self.arrays[name] *= F32(factor)


def _exponential(u: np.ndarray, mean: float) -> np.ndarray:
    """Exponential draws of this mean from uniforms on [0, 1): ``-mean x log(1 - u)``.

    ``1 - u`` is exact for uniforms on a 2**-53 grid, so ``log(1 - u)`` is as accurate as
    ``log1p(-u)``, and numpy's ``log`` runs in SIMD lanes (``log1p`` five times slower here).
    """
    return -mean * np.log(1.0 - u)


def _field(cells: int, name: str) -> np.ndarray:
    """One field's flat array of ``cells`` cells at its spare value.

    Past 2 MB (a few hundred replicates of a small crowd, any large crowd) it is an anonymous
    map the kernel is asked to back with huge pages, so the passes over it miss the TLB far
    less often (the day's close over 200 replicates: 120 -> 92 ms). Fresh pages are zero,
    and cost nothing until written; only the two non-zero spare values are filled.
    """
    dtype = np.dtype(FIELDS[name])
    size = cells * dtype.itemsize
    if size >= HUGE_PAGE:
        # Only whole aligned 2 MB stretches can be huge pages: map a page more, start at one.
        memory = mmap.mmap(-1, size + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # shared: no THP
        memory.madvise(mmap.MADV_HUGEPAGE)
        start = -np.frombuffer(memory, np.uint8, 1).ctypes.data % HUGE_PAGE
        array = np.frombuffer(memory, dtype=dtype, count=cells, offset=start)
    else:
        array = np.zeros(cells, dtype=dtype)
    if name in SPARE:
        array[:] = SPARE[name]
    return array
