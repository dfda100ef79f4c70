"""Compiled inner loops of the Monte Carlo engine (numba), bit for bit what the NumPy code computed.

The engine (:mod:`ntm_sim.simulate.engine`) keeps NumPy as its interface and for every
transcendental function (``exp``, ``log``, ``log1p``: NumPy's own implementations, so
that the numbers do not depend on the C library); these kernels take over the loops that
NumPy could only express with large temporaries: ranking the communes in every draw,
paying a class's items in that order, the criteria's year masks, and the outcomes.

Same numbers to the last digit: every floating-point sum is done in the order NumPy
does it – :func:`pairwise` is NumPy's pairwise summation (``a.sum()`` over a contiguous
axis), :func:`reduceat` its ``np.add.reduceat`` segment (first element, then the pairwise
sum of the rest), ``cumsum`` and ``bincount`` are sequential – and no expression is
re-associated or contracted (numba's default: no fast-math). ``tests/test_kernels.py``
checks these sums against NumPy's; the engine as a whole is checked against the
plain-loop reference (``tests/test_simulate_reference.py``).

Numba (BSD-2-Clause) compiles the kernels on first use and caches the machine code
beside this file (``__pycache__``), so later processes load them in milliseconds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = {"cache": True, "nogil": True}
MONEY_TOL = 1e-2  # million VND: solver round-off on planned flows (the engine's)
PAY_SLACK = 1 + 1e-12


@njit(**_OPTS)
def _pairwise_block(a: np.ndarray, lo: int, n: int) -> float:
    """NumPy's pairwise sum of ``a[lo:lo + n]`` for ``n ≤ 128``: eight running sums, then the rest in order."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    m = n - n % 8
    i = 8
    while i < m:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(**_OPTS)
def pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """NumPy's pairwise sum of ``a[lo:lo + n]`` (what ``a.sum()`` gives over a contiguous axis).

    Above 128 values NumPy sums the two halves (the first a multiple of 8) and adds them;
    the halves are walked here with a stack, not recursion (numba's cache cannot load a
    recursive function reliably).
    """
    if n <= 128:
        return _pairwise_block(a, lo, n)
    depth = 64
    st_lo = np.empty(depth, dtype=np.int64)
    st_n = np.empty(depth, dtype=np.int64)
    stage = np.zeros(depth, dtype=np.int64)
    left = np.empty(depth)
    right = np.empty(depth)
    st_lo[0], st_n[0], stage[0] = lo, n, 0
    sp = 1
    result = 0.0
    while sp > 0:
        top = sp - 1
        lo_t, n_t = st_lo[top], st_n[top]
        half = n_t // 2
        half -= half % 8
        if n_t <= 128 or stage[top] == 2:
            value = _pairwise_block(a, lo_t, n_t) if n_t <= 128 else left[top] + right[top]
            sp -= 1
            if sp == 0:
                result = value
            elif stage[sp - 1] == 1:
                left[sp - 1] = value
            else:
                right[sp - 1] = value
        elif stage[top] == 0:
            stage[top] = 1
            st_lo[sp], st_n[sp], stage[sp] = lo_t, half, 0
            sp += 1
        else:
            stage[top] = 2
            st_lo[sp], st_n[sp], stage[sp] = lo_t + half, n_t - half, 0
            sp += 1
    return result


@njit(**_OPTS)
def reduceat(a: np.ndarray, lo: int, n: int) -> float:
    """One segment of ``np.add.reduceat``: ``a[lo]`` plus the pairwise sum of the rest (``n ≥ 1``)."""
    return a[lo] + pairwise(a, lo + 1, n - 1)


@njit(**_OPTS)
def row_sums(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` of a 2-D array, as NumPy sums it (pairwise along each row)."""
    n_b, n = x.shape
    out = np.empty(n_b)
    row = np.empty(n)
    for b in range(n_b):
        for j in range(n):
            row[j] = x[b, j]
        out[b] = pairwise(row, 0, n)
    return out


@njit(**_OPTS)
def pair_order(cost: np.ndarray, paid_years: np.ndarray, crit: np.ndarray, lead: np.ndarray,
               commune: np.ndarray, outside_big: np.ndarray, own: np.ndarray, n_districts: int,
               unit_ptr: np.ndarray, unit_pairs: np.ndarray, pair_cls: np.ndarray, group_start: np.ndarray,
               n_pairs: int, by_commune: np.ndarray) -> np.ndarray:
    """Per draw, the (class, unit) pairs in payment order (the engine's ``_pair_order``).

    ``crit`` are the criterion items, ``outside_big`` ``BIG`` times each commune's unmet
    criteria outside the plan, ``own`` each commune's district (``n_districts``: none).
    ``unit_pairs[unit_ptr[u]:unit_ptr[u + 1]]`` are the pairs of unit ``u`` (one per class),
    ``pair_cls`` each pair's class and ``group_start[g, k]`` the first position of class
    ``g``'s pairs of unit group ``k`` (criterion projects, commune upgrades, district
    projects): each unit, taken in order of distance, puts its pairs in its classes' next places.
    ``by_commune`` (B × C) holds each draw's commune order of the year before and is
    updated in place: sorted again by (distance, commune), the order a stable sort gives,
    by insertion from last year's order (few communes change places from one year to the next).
    """
    n_b = cost.shape[0]
    n_c = outside_big.shape[0]
    out = np.empty((n_b, n_pairs), dtype=np.int64)
    distance = np.empty(n_c)
    district = np.empty(n_districts + 1)
    slot = np.empty_like(group_start)
    for b in range(n_b):
        distance[:] = 0.0
        for j in range(crit.shape[0]):
            i = crit[j]
            distance[commune[i]] += cost[b, i] * (lead[i] - paid_years[b, i])
        for c in range(n_c):
            distance[c] += outside_big[c]
        district[:] = 0.0
        for c in range(n_c):
            district[own[c]] += distance[c]
        order = by_commune[b]
        for i in range(1, n_c):
            x = order[i]
            dx = distance[x]
            j = i - 1
            while j >= 0 and (distance[order[j]] > dx or (distance[order[j]] == dx and order[j] > x)):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = x
        by_district = np.argsort(district[:n_districts], kind="mergesort")
        slot[:, :] = group_start
        for k in range(2):
            for c in order:
                u = k * n_c + c
                for q in range(unit_ptr[u], unit_ptr[u + 1]):
                    p = unit_pairs[q]
                    g = pair_cls[p]
                    out[b, slot[g, k]] = p
                    slot[g, k] += 1
        for d in by_district:
            u = 2 * n_c + d
            for q in range(unit_ptr[u], unit_ptr[u + 1]):
                p = unit_pairs[q]
                g = pair_cls[p]
                out[b, slot[g, 2]] = p
                slot[g, 2] += 1
    return out


@njit(**_OPTS)
def class_sums(cost: np.ndarray, wanted: np.ndarray, order: np.ndarray, class_first: np.ndarray,
               class_of_segment: np.ndarray, n_classes: int) -> np.ndarray:
    """``cost`` where ``wanted`` (else 0), summed per class (B × classes) as ``np.add.reduceat`` does.

    ``order`` is the items sorted by class; ``class_first`` where each class's segment starts.
    """
    n_b, n_i = cost.shape[0], order.shape[0]
    out = np.zeros((n_b, n_classes))
    v = np.empty(n_i)
    n_s = class_first.shape[0]
    for b in range(n_b):
        for s in range(n_i):
            i = order[s]
            v[s] = cost[b, i] if wanted[b, i] else 0.0
        for q in range(n_s):
            lo = class_first[q]
            hi = class_first[q + 1] if q + 1 < n_s else n_i
            out[b, class_of_segment[q]] = reduceat(v, lo, hi - lo)
    return out


@njit(**_OPTS)
def _considered(wanted: np.ndarray, sorted_items: np.ndarray) -> np.ndarray:
    """Positions in ``sorted_items`` of the items some draw of the block wants, in order."""
    n_s = sorted_items.shape[0]
    some = np.zeros(n_s, dtype=np.bool_)
    for b in range(wanted.shape[0]):
        for s in range(n_s):
            if wanted[b, sorted_items[s]]:
                some[s] = True
    n_pos = 0
    for s in range(n_s):
        n_pos += some[s]
    pos = np.empty(n_pos, dtype=np.int64)
    j = 0
    for s in range(n_s):
        if some[s]:
            pos[j] = s
            j += 1
    return pos


@njit(**_OPTS)
def _run_sums(values: np.ndarray, keys: np.ndarray, out: np.ndarray) -> None:
    """``out[key] =`` the sum of each run of equal consecutive ``keys`` (``np.add.reduceat``'s order)."""
    n = keys.shape[0]
    j = 0
    while j < n:
        e = j + 1
        while e < n and keys[e] == keys[j]:
            e += 1
        out[keys[j]] = reduceat(values, j, e - j)
        j = e


@njit(**_OPTS)
def pay(demand: np.ndarray, wanted: np.ndarray, money: np.ndarray, order: np.ndarray, sorted_items: np.ndarray,
        pair_of_sorted: np.ndarray, cls_sorted: np.ndarray, class_pos: np.ndarray,
        n_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Pay the wanted items in each class's order while money lasts (the engine's ``_pay``).

    Returns the items paid (B × items) and the money each class used (B × classes). The
    items considered are those some draw of the block wants, as the NumPy code took them.
    """
    n_b, n_i = demand.shape
    paid = np.zeros((n_b, n_i), dtype=np.bool_)
    used = np.zeros((n_b, money.shape[1]))
    pos = _considered(wanted, sorted_items)
    n_pos = pos.shape[0]
    if n_pos == 0:
        return paid, used
    items = sorted_items[pos]
    pairs = pair_of_sorted[pos]
    cls = cls_sorted[pos]
    first = np.empty(n_pos, dtype=np.int64)     # first position of each position's pair
    for j in range(n_pos):
        first[j] = j if (j == 0 or pairs[j] != pairs[j - 1]) else first[j - 1]
    d = np.empty(n_pos)
    cum = np.empty(n_pos)
    v = np.empty(n_pos)
    want = np.empty(n_pos, dtype=np.bool_)
    pair_total = np.empty(n_pairs)
    pair_before = np.empty(n_pairs)
    for b in range(n_b):
        for j in range(n_pos):
            w = wanted[b, items[j]]
            want[j] = w
            d[j] = demand[b, items[j]] if w else 0.0
        acc = 0.0
        for j in range(n_pos):
            acc = d[j] if j == 0 else acc + d[j]
            cum[j] = acc
        pair_total[:] = 0.0
        _run_sums(d, pairs, pair_total)
        for g in range(class_pos.shape[0] - 1):
            run = 0.0
            for k in range(class_pos[g], class_pos[g + 1]):
                x = pair_total[order[b, k]]
                run = x if k == class_pos[g] else run + x
                pair_before[order[b, k]] = run - x
        for j in range(n_pos):
            f = first[j]
            within = cum[j] - (cum[f] - d[f])
            ok = want[j] and (pair_before[pairs[j]] + within <= money[b, cls[j]] * PAY_SLACK + MONEY_TOL)
            paid[b, items[j]] = ok
            v[j] = d[j] if ok else 0.0
        _run_sums(v, cls, used[b])
    return paid, used


@njit(**_OPTS)
def _span(lo: int, hi: int, n_t: int) -> int:
    """Bits [lo, hi) of a year mask, the indices clipped to the horizon."""
    lo = min(max(lo, 0), n_t)
    hi = min(max(hi, 0), n_t)
    return ((1 << hi) - 1) & ~((1 << lo) - 1)


@njit(**_OPTS)
def _years(e: np.float32, rate: np.float32) -> int:
    """The engine's ``waiting_years`` for one variate and one float32 rate (NumPy's float32 arithmetic)."""
    x = e * rate
    if np.isnan(x):
        y = np.float32(9999.0)
    else:
        y = np.floor(x)
        if y > np.float32(9999.0):
            y = np.float32(9999.0)
    return int(y + np.float32(1.0))


@njit(**_OPTS)
def status_masks(base_start: np.ndarray, proj_c: np.ndarray, proj_k: np.ndarray, when: np.ndarray,
                 slip: np.ndarray, slip_rate: np.ndarray, slip_index: np.ndarray, recover: np.ndarray,
                 recover_rate: np.float32, n_t: int, never: int) -> tuple[np.ndarray, np.ndarray]:
    """Year masks (B × C × K, uint16) after slipping back and recovery; and when each criterion is met.

    ``when`` (B × projects) is the year each of the plan's criterion projects meets its
    criterion (``never``: not); ``slip_rate`` (B × distinct slip probabilities) the float32
    rates of the waiting times, ``slip_index`` (C × K) which one each cell uses.
    """
    n_b = when.shape[0]
    n_c, n_k = base_start.shape
    met = np.empty((n_b, n_c, n_k), dtype=np.int16)
    mask = np.empty((n_b, n_c, n_k), dtype=np.uint16)
    full = (1 << n_t) - 1
    for b in range(n_b):
        met[b] = base_start
        for j in range(proj_c.shape[0]):
            met[b, proj_c[j], proj_k[j]] = when[b, j]
        for c in range(n_c):
            for k in range(n_k):
                m = np.int64(met[b, c, k])
                slip_at = m + _years(slip[b, c, k], slip_rate[b, slip_index[c, k]])
                slip_end = slip_at + _years(recover[b, c, k], recover_rate)
                mask[b, c, k] = _span(m, n_t, n_t) & ~_span(slip_at, slip_end, n_t) & full
    return mask, met


@njit(**_OPTS)
def disaster_damage(mask: np.ndarray, met: np.ndarray, infra: np.ndarray, intensity: np.ndarray,
                    hit_bits: np.ndarray, area: np.ndarray, damage_share: np.ndarray, damage: np.ndarray,
                    rebuild: np.ndarray, rebuild_rate: np.float32, lowest_bit: np.ndarray, n_t: int,
                    never: int) -> None:
    """Knock out infrastructure criteria in the first disaster after they are met, until rebuilt (in place).

    ``hit_bits`` (B × areas) has bit ``t`` set when the area is hit in year ``t``;
    ``area`` each commune's area (``-1``: the province); ``damage_share`` the draw's damage.
    """
    n_b, n_c, _ = mask.shape
    full = (1 << n_t) - 1
    for b in range(n_b):
        share2 = damage_share[b] * 2.0
        for c in range(n_c):
            a = area[c]
            bits = np.int64(hit_bits[b, a])
            for i in range(infra.shape[0]):
                k = infra[i]
                m = np.int64(met[b, c, k])
                after = ~_span(0, m + 1, n_t) & 0xFFFF
                first_hit = np.int64(lowest_bit[bits & after])
                t_hit = min(first_hit, n_t - 1)
                p = share2 * intensity[b, a, t_hit]
                if p > 1.0:
                    p = 1.0
                if damage[b, c, i] < p and m < never and first_hit < never:
                    end = first_hit + _years(rebuild[b, c, i], rebuild_rate)
                    mask[b, c, k] &= ~_span(first_hit, end, n_t) & full


@njit(**_OPTS)
def criteria_outcomes(mask: np.ndarray, recognised0: np.ndarray, assessed_bits: int, review_from: int,
                      unmet_alone: int, unmet_with_key: int, key: np.ndarray, revoke: np.ndarray,
                      revocation_p: np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Meeting, criteria counts and recognition by year, from the year masks (the engine's ``_outcomes``).

    Before the criteria set is in force (``assessed_bits``) a commune recognised at the
    start counts every criterion. From ``review_from`` on, a recognised commune not
    meeting every criterion that the revocation rule holds loses its recognition when
    its review uniform is below ``revocation_p``.

    Returns
    -------
    tuple
        ``meets`` (B × C × T, bool), ``criteria`` (B × C × T, int16), ``recognised``
        (B × C × T, bool), ``ever_revoked`` (B × C, bool), ``criterion_communes``
        (B × K, int64: communes meeting each criterion at the horizon).
    """
    n_b, n_c, n_k = mask.shape
    n_t = revoke.shape[2]
    meets = np.zeros((n_b, n_c, n_t), dtype=np.bool_)
    criteria = np.zeros((n_b, n_c, n_t), dtype=np.int16)
    recognised = np.zeros((n_b, n_c, n_t), dtype=np.bool_)
    ever = np.zeros((n_b, n_c), dtype=np.bool_)
    per_criterion = np.zeros((n_b, n_k), dtype=np.int64)
    full = (1 << n_t) - 1
    last = n_t - 1
    for b in range(n_b):
        for c in range(n_c):
            extra = assessed_bits if recognised0[c] else 0
            both = full
            for k in range(n_k):
                m = mask[b, c, k] | extra
                both &= m
                per_criterion[b, k] += (m >> last) & 1
                for t in range(n_t):
                    criteria[b, c, t] += (m >> t) & 1
            held = recognised0[c]
            for t in range(n_t):
                meet = (both >> t) & 1 == 1
                meets[b, c, t] = meet
                if t >= review_from:
                    n_unmet = n_k - criteria[b, c, t]
                    rule = n_unmet >= unmet_alone
                    if not rule and n_unmet >= unmet_with_key:
                        for k in range(n_k):
                            if key[k] and ((mask[b, c, k] | extra) >> t) & 1 == 0:
                                rule = True
                                break
                    if held and not meet and rule and revoke[b, c, t] < revocation_p:
                        ever[b, c] = True
                        held = False
                held = held or meet
                recognised[b, c, t] = held
    return meets, criteria, recognised, ever, per_criterion
