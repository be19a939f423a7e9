"""The compiled passes over the crowd: one loop per event over every follower of every replicate.

A post, a day's close and a day's prospects each touch every follower of every replicate of
a batch. Written as numpy expressions that is a dozen passes over memory and a temporary
array per step; here each is one loop (compiled by numba) that reads a follower's fields
once and applies every mechanism's law to them — the laws themselves stay in their modules
(:func:`coach.model.fatigue.seen_post_hazard`, :func:`coach.model.fatigue.engagement`,
:func:`coach.model.content.hazard_of`,
:func:`coach.model.conversation.reply_chance_of`, :func:`coach.model.conversation.ignored_hazard_of`,
:func:`coach.model.discovery.extra_exposures`, :func:`coach.model.discovery.follow_logit_of`,
:func:`coach.model.outreach.followed_target`, :func:`coach.model.churn.base_churn_of`) and
are compiled from there, so there is one copy of each equation. The steps between the
passes (admitting followers, answering replies, granting bonds, retiring leavers) are
compiled too, and the passes count into the day's record: after a pass over a few
megabytes of crowd, every small numpy call would pay for the cache it lost.

Random numbers are **counter-based**: the uniform a follower draws for an event is a hash of
``(replicate key, day, event, counter)`` (SplitMix64's output function over a Weyl sequence;
the keys come from :func:`coach.rng.counter_keys`). Nothing is consumed, so replicate ``r``
draws the same numbers alone or in any batch, two scenarios on one seed draw the same
numbers for the same follower column, event and day (common random numbers), and a batch
draws for all replicates in one call instead of one generator call per replicate.

Events of the ``exposure`` key: post ``j`` of the day is event ``j``; the counter is the
follower's column in its replicate's row. Events of the ``prospects`` key:
:data:`EVENT_GAMMAS`, :data:`EVENT_COUNTS` (one running counter each) and
:data:`EVENT_PROSPECTS` (counter ``prospect x width + column``). The ``crowd`` key has one
event (the starting followers, :data:`SEED_UNIFORMS` per follower).
"""

from __future__ import annotations

import math

import llvmlite.binding as ll
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from coach.model import churn, content, conversation, discovery, fatigue, outreach, reshare

U64 = np.uint64
GOLDEN = U64(0x9E3779B97F4A7C15)  # Weyl increment of SplitMix64
MIX1, MIX2 = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB)
S30, S27, S31, S24, S40, S11 = U64(30), U64(27), U64(31), U64(24), U64(40), U64(11)
TO_F32 = np.float32(2.0**-24)
ONE = np.float32(1.0)
TO_F64 = 2.0**-53
EVENT_GAMMAS, EVENT_COUNTS, EVENT_PROSPECTS = 0, 1, 2
REASON_ORDER = ("fatigue", "content", "ignored", "neglect", "churn")  # the close's reasons (coach.results.REASONS)
CHURN = REASON_ORDER.index("churn")
# The fields a new follower is given, in the order of :func:`admit`'s ``fields`` tuple
# (taken by :meth:`coach.model.crowd.Crowd.admit` and :meth:`~coach.model.crowd.Crowd.seed`); the
# others stay at their spare value 0.
ADMIT_FIELDS = (
    "uid", "segment", "reciprocal", "tolerance", "attention", "reply_will", "tie_start", "churn",
    "churn_now", "budget", "reason_u",
)  # fmt: skip
SEED_UNIFORMS = 7  # per starting follower: segment, follow-back, 2 for the tolerance noise, budget, reason, age

jit = numba.njit(cache=True, nogil=True, error_model="numpy")

_seen_post_hazard = jit(fatigue.seen_post_hazard)
_engagement = jit(fatigue.engagement)
_content_hazard = jit(content.hazard_of)
add_to_profile = jit(content.add_to_profile)  # once a day, for the prospects' look at the profile
_reply_chance = jit(conversation.reply_chance_of)
_extra_exposures = jit(discovery.extra_exposures)
_follow_logit = jit(discovery.follow_logit_of)
_followed_target = jit(outreach.followed_target)
_ignored_hazard = jit(conversation.ignored_hazard_of)
_base_churn = jit(churn.base_churn_of)
_gamma_terms = jit(discovery.gamma_terms)
_gamma_scale = jit(reshare.gamma_scale)


@jit
def mix(z):
    """SplitMix64's output function: a 64-bit value whose bits all depend on every bit of ``z``."""
    z = U64(z)
    z = (z ^ (z >> S30)) * MIX1
    z = (z ^ (z >> S27)) * MIX2
    return z ^ (z >> S31)


@jit
def event_key(key, day, event):
    """The key of one event of one day, for one replicate's stream key."""
    return mix(U64(key) ^ mix((U64(day) << S24) + U64(event) + GOLDEN))


@jit
def bits24(event, counter):
    """The 24 bits of :func:`uniform32` (a uint32)."""
    return np.uint32(mix(U64(event) + GOLDEN * U64(counter + 1)) >> S40)


@jit
def uniform32(event, counter):
    """A float32 uniform on [0, 1) (24 bits)."""
    return np.float32(bits24(event, counter)) * TO_F32


@jit
def uniform64(event, counter):
    """A float64 uniform on [0, 1) (53 bits)."""
    return float(mix(U64(event) + GOLDEN * U64(counter + 1)) >> S11) * TO_F64


LANES = 16  # float32 lanes of one AVX-512 register: the columns :func:`compress_negative` takes at once


def _compiles_for(feature: str) -> bool:
    """Whether the machine code numba makes here may use this CPU feature (``avx512f``).

    Numba compiles for this machine unless ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES`` say
    otherwise (code for other machines, e.g. a cache shared by several): then only what they
    list counts. Numba keys its cache by the same CPU, so cached code and this answer agree.
    """
    if numba.config.CPU_FEATURES:
        return f"+{feature}" in numba.config.CPU_FEATURES.split(",")
    if numba.config.CPU_NAME not in (None, "host"):
        return False  # a named CPU without its feature list: assume the least
    return bool(ll.get_host_cpu_features().get(feature, False))


VECTOR_COMPRESS = _compiles_for("avx512f")
"""Whether the post pass gathers the seen columns with :func:`compress_negative` (AVX-512
machines) or one by one without a branch (elsewhere, where LLVM's expansion of the
compress into scalar code is up to 5 times slower than that loop)."""


@intrinsic
def compress_negative(typingctx, values, start, out, at):
    """Write each column ``start + i`` (``i < LANES``) whose ``values`` entry is negative to ``out[at:]``, in order.

    Returns how many. ``values`` a C-contiguous float32 and ``out`` a C-contiguous 32-bit
    integer array; all ``LANES`` entries of ``out[at:at + LANES]`` are written (those past the
    count with junk), so ``start + LANES <= len(values)`` and ``at + LANES <= len(out)``. On
    AVX-512 one vector compare and a compress into a register (``vpcompressd``; its form that
    writes memory is slow on some processors), then one 16-lane store; elsewhere LLVM's
    portable ``masked.compressstore``, with the same result (the post pass then does not call
    it: :data:`VECTOR_COMPRESS`).
    """
    if not (
        isinstance(values, types.Array) and values.dtype == types.float32 and values.ndim == 1
        and values.layout == "C" and isinstance(out, types.Array) and out.dtype in (types.uint32, types.int32)
        and out.ndim == 1 and out.layout == "C"
    ):  # fmt: skip
        return None
    sig = types.int64(values, start, out, at)

    def codegen(context, builder, signature, args):
        values_a, first, out_a, position = args
        src = context.make_array(signature.args[0])(context, builder, values_a)
        dst = context.make_array(signature.args[2])(context, builder, out_a)
        f32, i32 = ir.FloatType(), ir.IntType(32)
        floats, ints = ir.VectorType(f32, LANES), ir.VectorType(i32, LANES)
        mask_type = ir.VectorType(ir.IntType(1), LANES)
        first = context.cast(builder, first, signature.args[1], types.int64)
        position = context.cast(builder, position, signature.args[3], types.int64)
        block = builder.load(builder.bitcast(builder.gep(src.data, [first]), floats.as_pointer()), align=4)
        negative = builder.fcmp_ordered("<", block, ir.Constant(floats, [0.0] * LANES))
        lane0 = builder.insert_element(ir.Constant(ints, ir.Undefined), builder.trunc(first, i32), ir.Constant(i32, 0))
        columns = builder.add(
            builder.shuffle_vector(lane0, ir.Constant(ints, ir.Undefined), ir.Constant(ints, [0] * LANES)),
            ir.Constant(ints, list(range(LANES))),
        )
        target = builder.bitcast(builder.gep(dst.data, [position]), i32.as_pointer())
        if VECTOR_COMPRESS:
            compress = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ints, [ints, ints, mask_type]), f"llvm.x86.avx512.mask.compress.v{LANES}i32"
            )  # fmt: skip
            packed = builder.call(compress, [columns, ir.Constant(ints, ir.Undefined), negative])
            builder.store(packed, builder.bitcast(target, ints.as_pointer()), align=4)
        else:
            store = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [ints, i32.as_pointer(), mask_type]),
                f"llvm.masked.compressstore.v{LANES}i32",
            )  # fmt: skip
            builder.call(store, [columns, target, negative])
        return builder.zext(builder.ctpop(builder.bitcast(negative, ir.IntType(LANES))), ir.IntType(64))

    return sig, codegen


@jit
def post_pass(
    n, C, keys, day, j, kind, attention, tolerance, fatigue_acc, sat, segment, reply_will, uid, chat_seg, value,
    reshare, seen_cols, margin, p_see, felt, sat_mult, strength, reply_base, reply_rate, fatigue_on, cap, gamma, power,
    content_on, replies_on, like_chance, dispersion, expected_likes, shape, reach_class, record, rows,
    replies, reply_answered,
):  # fmt: skip
    """Post ``j`` of ``day`` (of kind ``kind``) offered to every replicate's crowd; returns how many replied.

    Per follower: sees it when ``u < attention x p_see`` (``u`` the follower's uniform for
    this post); then ``v = u / (attention x p_see)`` is a fresh uniform that decides the
    reshare (its top ``reshare[kind, segment] x engagement``) and the reply (its bottom
    ``reply chance``, with the chat appetite ``chat_seg`` of the follower's segment), and
    ``v / reply chance`` whether the account will answer. Seen followers gain fatigue (over
    tolerance) and the post's value, ``value[kind, segment] x sat_mult`` (stored scale). Per
    replicate ``b``: the day's ``record[day]`` counts the seen (``rows[0]``), reshares
    (``rows[1]``) and replies (``rows[2]``); ``expected_likes[b]`` gains ``like_chance`` x the
    engagement summed, ``shape[reach_class, b]`` (the reshares' gamma shape of the post's reach
    class) ``dispersion`` x the reshares. Repliers go to ``replies`` in increasing order of cell
    (rows: cell, replicate, ``uid``) and whether they will be answered to ``reply_answered``.
    ``seen_cols`` and ``margin`` are scratch space of at least ``C`` each.

    The chances and rates come as Python floats and are rounded to float32 here, as the
    crowd's fields are: the caller makes no numpy scalar per post.
    """
    replied = 0
    p_see, felt, sat_mult = np.float32(p_see), np.float32(felt), np.float32(sat_mult)
    today = record[day]
    for b in range(len(n)):
        ev = event_key(keys[b], day, j)
        base = b * C
        # Row views: indices from 0 are known to be non-negative, so the loops need no
        # wrap-around checks (they cost more than the work here).
        end = base + n[b]
        att, tol, fat, sa = attention[base:end], tolerance[base:end], fatigue_acc[base:end], sat[base:end]
        seg, will = segment[base:end], reply_will[base:end]
        # Pass 1, without branches (whether a follower sees it is a coin flip a branch
        # predictor cannot learn), in three loops the compiler vectorises: the uniforms'
        # 24 bits (the hash alone in SIMD lanes: the compiler unrolls and interleaves it
        # only without the float arithmetic, which makes it about 4x faster; parked in
        # ``seen_cols``, rewritten below), the uniforms less the chances (the sign of a
        # difference is exact, so it is negative exactly when u < chance), then the seen
        # columns in order, LANES at a time on AVX-512 machines (:func:`compress_negative`;
        # the few left, and every column elsewhere, one by one without a branch).
        m = len(att)
        for col in range(m):
            seen_cols[col] = bits24(ev, col)
        for col in range(m):
            margin[col] = np.float32(seen_cols[col]) * TO_F32 - att[col] * p_see  # chance 0: never seen
        seen = 0
        whole = m - m % LANES if VECTOR_COMPRESS else 0
        for first in range(0, whole, LANES):
            seen += compress_negative(margin, first, seen_cols, seen)
        for col in range(whole, m):
            seen_cols[seen] = col
            seen += margin[col] < 0
        # Pass 2: what the post does to those who saw it.
        engaged = 0.0
        shared = 0
        tired = 0
        replied_before = replied
        for k in range(seen):
            col = seen_cols[k]
            v = ONE + margin[col] / (att[col] * p_see)  # u / chance: given u < chance, a fresh uniform
            t = tol[col]
            ratio = felt / t
            # Over tolerance: collected without a branch (a coin flip the predictor cannot
            # learn), their fatigue added after this loop. In the list being read: tired <= k,
            # so this overwrites only columns already read.
            seen_cols[tired] = col
            tired += t < felt
            engage = _engagement(ratio, power)
            engaged += engage
            s = seg[col]
            if content_on:
                sa[col] += value[kind, s] * sat_mult
            top = v >= 1.0 - reshare[kind, s] * engage  # the top of v: a reshare (no branch)
            shared += top
            # The bottom of v: a reply. Willingness is at most 1, so the chance at full
            # willingness decides for nearly all without reading theirs: a follower's fields
            # read by few are cache misses each, once the crowd outgrows the cache.
            if replies_on and not top and v < _reply_chance(reply_base, chat_seg[s], ONE, engage):
                rp = _reply_chance(reply_base, chat_seg[s], will[col], engage)
                if v < rp:
                    replies[0, replied] = base + col
                    replies[1, replied] = b
                    replies[2, replied] = uid[base + col]
                    reply_answered[replied] = v / rp < reply_rate
                    replied += 1
        if fatigue_on:  # most are under tolerance: no fatigue, no write
            for k in range(tired):
                col = seen_cols[k]
                fat[col] += _seen_post_hazard(felt / tol[col], cap, gamma, strength)
        today[rows[0], b] += seen
        today[rows[1], b] += shared
        today[rows[2], b] += replied - replied_before
        expected_likes[b] += like_chance * engaged
        shape[reach_class, b] += dispersion * shared
    return replied


@jit
def _hazards(fatigue_on, churn_on, content_on, conversation_on, fat, churn_now, sat, ignored_chat, sat_scale, threshold,
             content_strength, ignored_factor, neglect):  # fmt: skip
    """One follower's hazards today, in the order of :data:`coach.results.REASONS`."""
    h_fatigue = fat if fatigue_on else 0.0
    h_content = _content_hazard(sat, sat_scale, threshold, content_strength) if content_on else 0.0
    h_ignored = _ignored_hazard(ignored_chat, ignored_factor) if conversation_on else 0.0
    h_churn = churn_now if churn_on else 0.0
    return h_fatigue, h_content, h_ignored, neglect, h_churn


@jit
def close_pass(
    n, C, budget, fatigue_acc, churn, churn_now, tie_start, sat, ignored_chat, bonded_until, reason_u,
    churn_on, fatigue_on, content_on, conversation_on, aged_after, aged_by, sat_scale, threshold, content_strength,
    ignored_factor, neglect, bonded_ratio, bonds_on, t, leavers, record, rows,
):  # fmt: skip
    """The day's hazards of every follower, summed, taken from each one's budget; returns how many left.

    Per follower: ties that aged past ``new_tie_days`` drop to the base churn (a row's tie
    starts never decrease, so those are one stretch, found by binary search); today's
    hazards (fatigue, content, ignored, neglect, churn) are summed, times ``bonded_ratio``
    while bonded, and taken from what is left of the follower's budget; one whose budget is
    spent leaves, the reason drawn by the stored ``reason_u`` in proportion to those hazards
    (the order of :data:`coach.results.REASONS`). Each leaver is counted in the day's
    ``record[rows[0], b]`` (all unfollows) and ``record[rows[1 + reason], b]``. The fatigue
    collected is cleared.

    It reads five fields per follower (six while anyone is bonded) and writes the budget
    (and ``churn_now`` of the ties that aged, ``fatigue`` where some was collected): at a few
    hundred replicates the crowd no longer fits in a core's cache, so every field read costs.
    A NaN hazard (an extreme model constant) spends the budget too: the follower leaves,
    counted, rather than vanishing at the next compaction.
    """
    left = 0
    for b in range(len(n)):
        base, m = b * C, n[b]
        end = base + m
        bud, fat, cn, sa, ig = (
            budget[base:end],
            fatigue_acc[base:end],
            churn_now[base:end],
            sat[base:end],
            ignored_chat[base:end],
        )
        if churn_on:
            row = tie_start[base : base + m]
            first, last = np.searchsorted(row, aged_after, "right"), np.searchsorted(row, aged_by, "right")
            cn[first:last] = churn[base + first : base + last]
        # The sum, over every follower (no branches: the loop runs in SIMD lanes). Retired
        # cells have no hazards but neglect and an infinite budget: they never leave.
        if bonds_on:
            bo = bonded_until[base:end]
            for col in range(m):
                h = _hazards(fatigue_on, churn_on, content_on, conversation_on, fat[col], cn[col], sa[col], ig[col],
                             sat_scale, threshold, content_strength, ignored_factor, neglect)  # fmt: skip
                bud[col] -= (h[0] + h[1] + h[2] + h[3] + h[4]) * (bonded_ratio if bo[col] > t else 1.0)
        else:
            for col in range(m):
                h = _hazards(fatigue_on, churn_on, content_on, conversation_on, fat[col], cn[col], sa[col], ig[col],
                             sat_scale, threshold, content_strength, ignored_factor, neglect)  # fmt: skip
                bud[col] -= h[0] + h[1] + h[2] + h[3] + h[4]
        # Who spent their budget, and why: a branch, not a branchless collection, since the
        # predictor learns it (a day's leavers are a few in a thousand).
        for col in range(m):
            if not bud[col] > 0:
                leavers[left] = base + col
                left += 1
                h = _hazards(fatigue_on, churn_on, content_on, conversation_on, fat[col], cn[col], sa[col], ig[col],
                             sat_scale, threshold, content_strength, ignored_factor, neglect)  # fmt: skip
                whole = h[0] + h[1] + h[2] + h[3] + h[4]
                reason = CHURN  # when no hazard is positive
                if whole > 0:
                    x = reason_u[base + col] * whole
                    acc = 0.0
                    for r in range(CHURN):  # the last one takes what is left
                        acc += h[r]
                        if x < acc:
                            reason = r
                            break
                record[rows[0], b] += 1
                record[rows[1 + reason], b] += 1
        if fatigue_on:
            for col in range(m):  # most collected none: a masked store leaves their memory clean
                if fat[col] != 0:
                    fat[col] = 0.0
    return left


@jit
def answer_replies(cells, rep, answered, rep_all, answered_all, check, budget, sat, reply_will, ignored_chat, segment,
                   chat_seg, boost, penalty, ignored_add, will_factor, record, day, rows, wanted, yes):  # fmt: skip
    """The account goes through one post's replies: ``cells`` of the repliers, in increasing order.

    Every reply (``rep_all``, ``answered_all``: also of repliers who left since) is counted in
    the day's ``record[day]``: ``rows[0]`` answered, ``rows[1]`` ignored. Repliers who left
    since (``check``: their budget is infinite) are not changed. An answered follower gains
    ``boost`` satisfaction (stored scale) and replies as usual again; an ignored one loses
    ``penalty``, remembers it (``ignored_add`` x its segment's chat appetite ``chat_seg``) and
    replies less (``will_factor``). ``wanted[b]`` gets how many answered followers of
    replicate ``b`` still follow (who may bond); returns how many in all, their cells written
    to ``yes`` in order. The amounts come as Python floats and are rounded to float32 here.
    """
    boost, penalty = np.float32(boost), np.float32(penalty)
    ignored_add, will_factor = np.float32(ignored_add), np.float32(will_factor)
    today = record[day]
    for i in range(len(rep_all)):
        today[rows[0] if answered_all[i] else rows[1], rep_all[i]] += 1
    wanted[:] = 0
    k = 0
    for i in range(len(cells)):
        b, cell = rep[i], cells[i]
        if check and budget[cell] == np.inf:
            continue
        if answered[i]:
            sat[cell] += boost
            reply_will[cell] = 1.0
            wanted[b] += 1
            yes[k] = cell
            k += 1
        else:
            sat[cell] -= penalty
            ignored_chat[cell] += ignored_add * chat_seg[segment[cell]]
            reply_will[cell] *= will_factor
    return k


@jit
def bond_first(yes, C, granted, bonded_until, until):
    """The first ``granted[b]`` of replicate ``b``'s answered repliers (``yes``, in order) bond until hour ``until``."""
    until = np.float32(until)
    done = np.zeros(len(granted), dtype=np.int64)
    for i in range(len(yes)):
        b = yes[i] // C
        if done[b] < granted[b]:
            bonded_until[yes[i]] = until
            done[b] += 1


@jit
def retire_cells(cells, C, zeroed, budget, retired, n):
    """Neutralise leavers' cells (``zeroed`` fields to 0, budget infinite); returns whether a row needs compacting.

    ``retired[b]`` counts each replicate's retired cells; a row needs compacting once they
    pass a tenth of it (and 32).
    """
    for i in range(len(cells)):
        cell = cells[i]
        for field in zeroed:  # a homogeneous tuple (every RETIRED_ZERO field is float32): a loop numba can compile
            field[cell] = 0.0
        budget[cell] = np.inf
        retired[cell // C] += 1
    for b in range(len(n)):
        if retired[b] > max(32, n[b] // 10):
            return True
    return False


@jit
def grant_bonds(running, wanted, capacity, bonded_until, n, C, t, granted):
    """How many of ``wanted[b]`` may bond now, into ``granted``; adds them to ``running``; returns whether any.

    ``running[b]`` bounds replicate ``b``'s bonded followers from above (re-bonded ones count
    twice); only where it says the capacity may be reached are the followers bonded at ``t``
    counted exactly (a pass over the row).
    """
    some = False
    for b in range(len(wanted)):
        g = wanted[b]
        if running[b] + g > capacity:
            row = bonded_until[b * C : b * C + n[b]]
            bonded = 0
            for col in range(len(row)):
                bonded += row[col] > t
            g = min(max(capacity - bonded, 0), g)
        granted[b] = g
        running[b] += g
        some |= g > 0
    return some


@jit
def standard_gamma(shape, ev, counter):
    """Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 boosted by U^(1/shape)); returns (value, counter)."""
    if shape <= 0:
        return 0.0, counter
    boost = 1.0
    if shape < 1:
        boost = (1.0 - uniform64(ev, counter)) ** (1.0 / shape)  # 1 - u is in (0, 1]
        counter += 1
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        # A standard normal (Box-Muller) from two uniforms.
        x = math.sqrt(-2.0 * math.log1p(-uniform64(ev, counter))) * math.cos(2 * math.pi * uniform64(ev, counter + 1))
        counter += 2
        v = 1.0 + c * x
        if v <= 0:
            continue
        v = v * v * v
        u = uniform64(ev, counter)
        counter += 1
        if u < 1.0 - 0.0331 * x**4 or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v * boost, counter


@jit
def poisson(lam, ev, counter):
    """Poisson(lam): inversion below 10, Hörmann's PTRS above (as numpy does); returns (count, counter)."""
    if lam <= 0:
        return 0, counter
    if lam < 10:
        u = uniform64(ev, counter)
        counter += 1
        k, term = 0, math.exp(-lam)
        cdf = term
        while u > cdf and k < 1000:
            k += 1
            term *= lam / k
            cdf += term
        return k, counter
    slam, loglam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = uniform64(ev, counter) - 0.5
        v = uniform64(ev, counter + 1)
        counter += 2
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k), counter
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1):
            return int(k), counter


@jit
def day_prospects(
    keys, day, discovery_mean, discovery_dispersion, reshare_on, reshare_shape, prospects_per_reshare,
    reshare_dispersion, reach, out_of_network, room, conversation_mean, outreach_mean, expected_likes,
    outreach_count, record, likes_row, channel_cdf, totals,
):  # fmt: skip
    """How many prospects each replicate meets today, and by which channel; the day's likes.

    Per replicate ``b``: the day's gammas (event :data:`EVENT_GAMMAS`, one running counter):
    the recommendations' luck, then each reach class's reshares (``reach[c]``: plain posts,
    link posts; gamma shape ``reshare_shape[c, b]``). Given them every channel's count is
    Poisson, and independent Poisson counts are one Poisson count whose prospects take each
    channel in proportion to its mean, so one draw (event :data:`EVENT_COUNTS`) counts them,
    and one more the likes (mean ``expected_likes[b]``, into ``record[likes_row, b]``).
    ``channel_cdf[b]`` gets the channels' cumulative shares (:data:`coach.results.CHANNELS`:
    reshare, conversation, outreach, discovery), ``totals[b]`` the prospects with the day's
    ``outreach_count`` targets first.
    """
    means = np.empty(4)
    for b in range(len(keys)):
        ev = event_key(keys[b], day, EVENT_GAMMAS)
        shape, scale = _gamma_terms(discovery_mean[b], discovery_dispersion)
        found, counter = standard_gamma(shape if scale > 0 else 0.0, ev, 0)
        shared = 0.0
        if reshare_on:
            for c in range(2):
                scale_c = _gamma_scale(prospects_per_reshare, reshare_dispersion, out_of_network * (room[b] * reach[c]))
                g, counter = standard_gamma(reshare_shape[c, b] if scale_c > 0 else 0.0, ev, counter)
                shared += g * scale_c
        means[0], means[1], means[2], means[3] = shared, conversation_mean[b], outreach_mean[b], found * scale
        total = means[0] + means[1] + means[2] + means[3]
        ev = event_key(keys[b], day, EVENT_COUNTS)
        prospects, counter = poisson(total, ev, 0)
        likes, counter = poisson(expected_likes[b], ev, counter)
        record[likes_row, b] = likes
        acc = 0.0
        for c in range(4):
            acc += means[c]
            channel_cdf[b, c] = acc / max(total, 1e-300)
        totals[b] = outreach_count + prospects


@jit
def decide_prospects(
    keys, day, replicate, first, count, width, outreach_count, outreach_channel, channel_cdf, market_cdf, profile,
    chat_app, recent_answers, posts, extra_mean, most_extra, followed_share, coef, dead, follow_back_rate,
    out_rep, out_seg, out_followed, out_back, out_channel, out_noise, out_budget, out_reason, record, rows,
):  # fmt: skip
    """Prospects ``first .. first + count`` of each listed replicate look at the profile; returns how many follow.

    Prospect ``i`` reads uniforms ``i x width + 0 .. 9`` of the day's prospects event: segment,
    extra exposures, whether an outreach target is followed by the account, the follow
    decision, the follow-back, two for the tolerance noise (Box-Muller), the hazard budget
    (Exp(1)), the channel it came by, the reason it would give for leaving. The first
    ``outreach_count`` prospects of a replicate are the day's outreach targets. Those who
    follow are written to the ``out_*`` arrays in order and counted in the day's ``record``:
    ``rows[0]`` all follows, ``rows[1]`` follow-backs (of those not followed already),
    ``rows[2 + channel]`` by channel (:data:`coach.results.CHANNELS`).
    """
    k = 0
    last_segment = len(market_cdf) - 1
    for p in range(len(replicate)):
        b = replicate[p]
        ev = event_key(keys[b], day, EVENT_PROSPECTS)
        answers = recent_answers[b]
        conv_share = answers / (answers + posts) if answers + posts > 0 else 0.0
        for i in range(first[p], first[p] + count[p]):
            c0 = i * width
            x = uniform64(ev, c0)
            seg = 0
            while seg < last_segment and market_cdf[seg] < x:
                seg += 1
            target = 1.0 if i < outreach_count else 0.0
            followed = 1.0 if target > 0 and _followed_target(uniform64(ev, c0 + 2), followed_share) else 0.0
            extra = _extra_exposures(uniform64(ev, c0 + 1), extra_mean, most_extra)
            logit = _follow_logit(
                coef, profile[seg], chat_app[seg], conv_share, float(extra), posts, followed, dead, target
            )
            if uniform64(ev, c0 + 3) >= 1.0 / (1.0 + math.exp(-logit)):
                continue
            if target > 0:
                channel = outreach_channel
            else:
                x = uniform64(ev, c0 + 8)
                channel = 0
                while channel < channel_cdf.shape[1] - 1 and channel_cdf[b, channel] <= x:
                    channel += 1
            back = uniform64(ev, c0 + 4) < follow_back_rate
            out_rep[k] = b
            out_seg[k] = seg
            out_followed[k] = followed > 0
            out_back[k] = back
            out_channel[k] = channel
            record[rows[0], b] += 1
            record[rows[1], b] += back and not followed > 0
            record[rows[2 + channel], b] += 1
            radius = math.sqrt(-2.0 * math.log1p(-uniform64(ev, c0 + 5)))  # 1 - u is in (0, 1]
            out_noise[k] = radius * math.cos(2 * math.pi * uniform64(ev, c0 + 6))
            out_budget[k] = -math.log1p(-uniform64(ev, c0 + 7))
            out_reason[k] = uniform64(ev, c0 + 9)
            k += 1
    return k


@jit
def admit(fields, traits, laws, b, C, n, next_uid, seg, reciprocal, tol, budget, reason_u, tie_start):
    """Replicate ``b``'s next spare cell becomes a new follower; returns the cell.

    ``fields``: the crowd's flat arrays named by :data:`ADMIT_FIELDS`; ``traits``: per segment
    tolerance median, attention, churn per day (float32); ``laws``: tolerance spread,
    reciprocal ratio, new-tie ratio; ``tol`` the follower's tolerance, drawn by the caller
    (:func:`coach.model.fatigue.tolerance_of`, in numpy). The caller has made room (``n[b] < C``).
    """
    uid, segment, recip, tolerance, attention, will, tie, churn_base, churn_now, budget_a, reason_a = fields
    _, seg_attention, seg_churn = traits
    _, reciprocal_ratio, new_tie_ratio = laws
    cell = b * C + n[b]
    n[b] += 1
    uid[cell] = next_uid[b]
    next_uid[b] += 1
    segment[cell] = seg
    recip[cell] = reciprocal
    tolerance[cell] = tol
    attention[cell] = seg_attention[seg]
    will[cell] = 1.0
    tie[cell] = tie_start
    base = _base_churn(seg_churn[seg], reciprocal, np.float32(reciprocal_ratio))
    churn_base[cell] = base
    churn_now[cell] = base * np.float32(new_tie_ratio)
    budget_a[cell] = budget
    reason_a[cell] = reason_u
    return cell


@jit
def admit_many(fields, traits, laws, C, n, next_uid, rep, seg, reciprocal, tol, budget, reason_u, tie_start):
    """:func:`admit` for each listed new follower (``rep`` sorted), all starting at ``tie_start``; returns their cells."""
    cells = np.empty(len(rep), dtype=np.int64)
    for k in range(len(rep)):
        cells[k] = admit(fields, traits, laws, rep[k], C, n, next_uid, seg[k], reciprocal[k], tol[k], budget[k],
                         reason_u[k], tie_start)  # fmt: skip
    return cells


@jit
def seed_uniforms(keys, first, j0, u):
    """Starting followers' uniforms: ``u[b, j, i]`` is uniform ``j0 + j`` of follower ``first + i`` of replicate ``b``.

    Follower ``i``'s uniform ``j`` is counter ``i x SEED_UNIFORMS + j`` of the ``crowd`` key's
    one event. Their order: segment, follow-back, two for the tolerance noise (Box-Muller),
    the hazard budget (Exp(1)), the reason, the tie's age. One loop per uniform, so the hash
    runs in SIMD lanes; the transcendental laws that turn them into draws run in numpy's
    vectorised functions (:meth:`coach.model.crowd.Crowd.seed`), a tenth of the cost of
    scalar calls.
    """
    for b in range(len(keys)):
        ev = event_key(keys[b], 0, 0)
        for j in range(u.shape[1]):
            row = u[b, j]
            for i in range(u.shape[2]):
                row[i] = uniform64(ev, (first + i) * SEED_UNIFORMS + j0 + j)


@jit
def seed_rows(fields, traits, laws, C, n, next_uid, first, seg, reciprocal, tol, budget, reason_u, ties):
    """Rows ``first, first + 1, ...`` get their starting followers, drawn (``seg[b, i]`` ...), in order.

    ``ties[b]`` the row's tie starts, already in order (oldest first). The caller has made room.
    """
    for b in range(seg.shape[0]):
        for i in range(seg.shape[1]):
            admit(fields, traits, laws, first + b, C, n, next_uid, seg[b, i], reciprocal[b, i], tol[b, i],
                  budget[b, i], reason_u[b, i], ties[b, i])  # fmt: skip
