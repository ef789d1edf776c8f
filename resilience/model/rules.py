"""The rules of the daily model (docs/model.md, sections 2 to 5), stated once in plain Python.

Each function is one rule of the model page on plain floats and lists: the combination of
disruption levels, the state of a lane, through-capacity, arrivals, production, demand,
ordering, effective shares, allocation, release and sharing, and the split of a shipment. The
reference day loop (`resilience.model.reference`) and the processes of the SimPy engine
(`resilience.engines.des`) both call them, so the arithmetic of the model exists twice only:
here and compiled in `kernels/`. Engines decide *when* a rule applies and to what; these
functions say *what* it computes.

Sums run left to right in the order the values are given (lanes, buffers, days ascending), the
order the kernel uses too, so engines that pass the same values get the same bits.
Quantities are in units of the element's commodity, rates in units/day, times in whole days,
levels, factors and shares dimensionless.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from resilience.model.timeline import exp, standard_normal, uniform

_INF = math.inf  # one global lookup in the rules called per lane and day

__all__ = [
    "allocate",
    "availability",
    "clip",
    "closure",
    "combined_factor",
    "cover",
    "delivery",
    "effective_shares",
    "extra_lead_days",
    "fill_pro_rata",
    "lane_route",
    "licensing_delay",
    "lognormal_demand",
    "lognormal_parameters",
    "need",
    "order_target",
    "order_up_to",
    "production",
    "release_available",
    "scaled_capacity",
    "serve",
    "sharing_offer",
    "split",
    "split_shipment",
    "supplier_available",
    "surge_multiplier",
    "switching_counter",
    "throughput",
    "thru",
]


# -- 3.4: combining the levels of the occurrences in effect ---------------------------------


def combined_factor(levels: Iterable[float]) -> float:
    """``prod_i (1 - level_i)`` in the given (timeline) order, 1 for none (section 3.4).

    The node factor ``f_n``, the lane factor ``g_l`` and the export factor ``gx_l``. A level of
    0 multiplies by 1 and is skipped, so that occurrences not in effect change no bit.
    """
    value = 1.0
    for level in levels:
        if level != 0.0:
            value *= 1.0 - level
    return value


def closure(levels: Iterable[float]) -> float:
    """A chokepoint's closure ``x_k = 1 - prod_i (1 - level_i)`` (section 3.4)."""
    return 1.0 - combined_factor(levels)


def surge_multiplier(levels: Iterable[float]) -> float:
    """Demand surges multiply: ``prod_i (1 + level_i)`` (section 2.3), 1 for none."""
    value = 1.0
    for level in levels:
        if level != 0.0:
            value *= 1.0 + level
    return value


# -- 5.1: lane states, through-capacity, scaled capacity ------------------------------------


def lane_route(
    chokes: Sequence[int],
    x_k: Sequence[float],
    lane_detour: tuple[int, float],
    choke_detour_days: Sequence[int],
    choke_factor: Sequence[float],
) -> tuple[float, int, float]:
    """``(x_l, E_l, F_l)`` of one lane (section 5.1, step 2).

    Args:
        chokes: the chokepoint rows the lane passes, in route order.
        x_k: the closure of every chokepoint (by row), dimensionless.
        lane_detour: the lane's override ``(extra_days, capacity_factor)``, days < 0 for none.
        choke_detour_days: per chokepoint, its detour in days (< 0: no detour).
        choke_factor: per chokepoint, the share of capacity its detour carries.
    """
    lane_open = 1.0
    for k in chokes:
        lane_open *= 1.0 - x_k[k]
    x = 1.0 - lane_open
    closed = [k for k in chokes if x_k[k] > 0.0]  # CK_l
    if not closed:
        # model.md ambiguity (5.1): F_l with CK_l empty is a min over an empty set, +inf by the
        # page's notation, which would make x_l * F_l = 0 * inf undefined. Then x_l = 0, so any
        # finite F_l gives the same result; we take E_l = 0, F_l = 1.
        return x, 0, 1.0
    if lane_detour[0] >= 0:
        return x, lane_detour[0], lane_detour[1]
    # model.md ambiguity (5.1): E_l = max detour_days over CK_l, but a chokepoint without a
    # detour has no detour_days. We take the max over those that have one (0 if none); the
    # others force F_l = 0, so nothing but rounding residue takes the detour anyway.
    extra = max((choke_detour_days[k] for k in closed if choke_detour_days[k] >= 0), default=0)
    if any(choke_detour_days[k] < 0 for k in closed):
        return x, extra, 0.0
    return x, extra, min(choke_factor[k] for k in closed)


def throughput(g: float, gx: float, x: float, factor: float) -> float:
    """``phi_l = g_l * gx_l * ((1 - x_l) + x_l * F_l)``, the departure factor (section 5.1)."""
    return g * gx * ((1.0 - x) + x * factor)


def availability(phi: float, f_from: float) -> float:
    """``a_l = min(1, phi_l) * f_from``; the switching counter runs while it is < 1 (5.1)."""
    return min(1.0, phi) * f_from


def licensing_delay(levels: Sequence[float], delays: Sequence[int]) -> int:
    """``Lic_l``: the largest licensing delay (days) of the matching export restrictions in
    effect (level not 0), 0 if none (section 5.1); ``levels`` and ``delays`` pair up."""
    return max((d for v, d in zip(levels, delays, strict=True) if v != 0.0), default=0)


def switching_counter(previous: int, avail: float) -> int:
    """``c_l(t) = c_l(t-1) + 1`` while ``a_l(t) < 1``, else 0 (section 5.1, step 3)."""
    return previous + 1 if avail < 1.0 else 0


def thru(capacity: float, phi: float, y: float, flow: float = _INF) -> float:
    """Through-capacity (section 5.1): what a lane of capacity ``K_l`` passes of a request ``y``.

    Undisrupted (``phi_l = 1``) a lane passes ``min(y, K_l)``. Disrupted, a normal lane passes
    at most ``phi_l * B_l``, where ``flow`` is its undisrupted flow ``B_l = min(s_l r_b, K_l)``
    (units/day), whether it has a capacity or not: a 50% restriction halves what it carries
    however large the order. Release and sharing lanes have no undisrupted flow (``flow = inf``):
    they pass ``min(y, K_l * phi_l)``, or ``phi_l * y`` when unbounded.
    """
    if phi < 1.0:
        if flow != _INF:
            limit = phi * flow
        elif capacity == _INF:
            return phi * y
        else:
            limit = capacity * phi
    else:
        limit = capacity
    return limit if limit < y else y  # min(y, limit), as min() picks


def scaled_capacity(capacity: float, factor: float) -> float:
    """``K * f`` with ``inf * f = inf`` for ``f > 0`` and ``0`` for ``f = 0`` (section 2.2)."""
    if math.isinf(capacity):
        return math.inf if factor > 0.0 else 0.0
    return capacity * factor


# -- 5.2 to 5.5: arrivals, production, demand, ordering -------------------------------------


def delivery(g: float, due: float) -> tuple[float, float]:
    """``(deliver, carry)`` of the cargo ``due`` on a lane today (section 5.2).

    The lane factor ``g_l`` of the day delivers; the rest waits for the next day.
    """
    delivered = g * due
    return delivered, due - delivered


def clip(stock: float, capacity: float) -> tuple[float, float]:
    """``(stock, lost)`` of a buffer after the day's deliveries (section 5.2): the excess over
    ``cap_b`` is lost."""
    if stock > capacity:
        return capacity, stock - capacity
    return stock, 0.0


def production(rate: float, room: float, inputs: float = math.inf) -> float:
    """``p = max(0, min(K_n * f_n, min_i I_i / q_i, cap_b - S_b))`` (section 5.3).

    Args:
        rate: ``K_n * f_n``, units/day.   room: ``cap_b - S_b``, units.
        inputs: ``min_i I_i / q_i`` over the BOM rows, units (inf for a source).
    """
    p = rate  # min(rate, inputs, room), as min() picks, without the call
    if inputs < p:
        p = inputs
    if room < p:
        p = room
    # model.md ambiguity (5.3): "p is never below 0" is read as a clamp. It matters only for
    # rounding: I_i -= q_i * p can leave an input a few ulps below 0.
    return p if p > 0.0 else 0.0


def lognormal_parameters(mu: float, cv: float) -> tuple[float, float] | None:
    """``(m, sigma)`` of lognormal demand with mean ``mu`` (section 2.3); None when demand is
    the constant ``mu`` (``cv = 0`` or ``mu = 0``) and draws no random numbers."""
    if cv == 0.0 or mu == 0.0:
        return None
    sigma2 = math.log(1.0 + cv * cv)
    return math.log(mu) - sigma2 / 2.0, math.sqrt(sigma2)


def lognormal_demand(
    parameters: tuple[float, float], seed: int, replication: int, key: int, t: int
) -> float:
    """Base demand ``exp(m + sigma * z_t)`` of day ``t`` from draws ``2t, 2t+1`` of the
    consumer's stream ``key`` (sections 2.3 and 4.3), units/day."""
    m, sigma = parameters
    z = standard_normal(
        uniform(seed, replication, key, 2 * t), uniform(seed, replication, key, 2 * t + 1)
    )
    return exp(m + sigma * z)


def serve(stock: float, demand: float) -> float:
    """``served_t = min(S_b, d_t)`` (section 5.4); the rest of the demand is lost."""
    return stock if stock < demand else demand


def order_up_to(target: float, position: float) -> float:
    """``O_b = max(0, T_b - IP_b)`` (section 5.5)."""
    quantity = target - position
    return quantity if quantity > 0.0 else 0.0


def extra_lead_days(x: float, extra: int, factor: float, lic: int) -> float:
    """Days beyond ``L_l`` a shipment leaving today takes on average (section 5.5):
    ``Lic_l + E_l * x_l F_l / ((1 - x_l) + x_l F_l)``, the licensing delay plus the detour's
    extra days times the part of the shipment that takes it (section 5.8); ``Lic_l`` alone when
    nothing takes a detour."""
    den = (1.0 - x) + x * factor
    if x == 0.0 or extra == 0 or not den > 0.0:
        return float(lic)
    return lic + extra * (x * factor / den)


def order_target(
    target: float, rate: float, pipeline: float, surge: float, extra_days: float
) -> float:
    """Today's order-up-to position ``T_b(t)`` under the adaptive rule (section 5.5), units.

    ``T_b(t) = T_b + r_b ((m_b - 1) P_b + m_b X_b)``: the pipeline part of the target follows the
    lanes' current lead times (``X_b = sum_l s_l * extra_lead_days_l``, days) and the buffer's
    demand surge ``m_b`` (consumers; 1 elsewhere), so a detour or a surge that planners know of
    does not eat into the stock on hand. ``target`` is ``T_b``, ``rate`` is ``r_b``,
    ``pipeline`` is ``P_b`` (days). Exactly ``T_b`` when nothing is in effect.
    """
    if surge == 1.0 and extra_days == 0.0:
        return target
    return target + rate * ((surge - 1.0) * pipeline + surge * extra_days)


# -- 5.6: effective shares and allocation ---------------------------------------------------


def effective_shares(
    group: Sequence[int],
    counter: Sequence[int],
    share: Sequence[float],
    avail: Sequence[float],
    capacity: Sequence[float],
    delay: Sequence[int],
) -> list[float]:
    """The effective shares ``e_l`` of one share group (section 5.6), in group order.

    Args:
        group: the lanes of the group (rows).
        counter: the switching counter ``c_l(t)`` of each lane of the group, in group order.
        share: sourcing share ``s_l`` per lane row.   avail: availability ``a_l`` per lane row.
        capacity: capacity ``K_l`` per lane row (units/day, inf).   delay: switching delay
            per lane row (days).
    """
    switched = [lane for lane, c in zip(group, counter, strict=True) if c > delay[lane]]
    receivers = [lane for lane, c in zip(group, counter, strict=True) if c == 0]
    weight = dict.fromkeys(group, 0.0)
    if receivers:
        unbounded = [lane for lane in receivers if math.isinf(capacity[lane])]
        if unbounded:  # the unbounded receivers share equally, the others get 0
            for lane in unbounded:
                weight[lane] = 1.0 / len(unbounded)
        else:
            total = 0.0
            for lane in receivers:
                total += capacity[lane]
            for lane in receivers:
                weight[lane] = capacity[lane] / total
    handed = {j: share[j] * (1.0 - avail[j]) for j in switched}
    shares = []
    for lane in group:
        # With no receivers, h_j stays on lane j.
        gives = handed[lane] if (lane in handed and receivers) else 0.0
        takes = 0.0
        if receivers:
            for j in switched:
                takes += handed[j] * weight[lane]
        shares.append(share[lane] - gives + takes)
    return shares


def supplier_available(stock: float, storage: bool, capacity: float, factor: float) -> float:
    """``A`` of a supplier (section 5.6): its stock, for storage at most ``K_n * f_n``, never
    below 0 (pro-rata fills can overshoot a stock by a rounding error)."""
    available = min(stock, scaled_capacity(capacity, factor)) if storage else stock
    return available if available > 0.0 else 0.0  # max(0, A)


def allocate(
    request: Sequence[float],
    lanes: Sequence[int],
    available: float,
    ranks: Sequence[int] | None,
    fill: list[float],
    flow: Sequence[float] | None = None,
) -> None:
    """One supplier's fills ``fill[l]`` of the requests ``request[l]`` on its outbound normal
    ``lanes`` from ``available`` units (section 5.6); both are indexed by lane row.

    Args:
        request: today's request per lane row, units.
        lanes: the supplier's outbound normal lanes, in lane order.
        available: the supplier's available stock ``A >= 0``, units.
        ranks: the allocation rank of each of ``lanes``' destination country (priority
            allocation), or None for pro-rata.
        fill: written in place for each of ``lanes``, units.
        flow: per lane row, the undisrupted flow ``B_l`` (units/day) that pro-rata by baseline
            share divides by; None to divide by today's requests (``pro_rata_by = "orders"``).
    """
    total = 0.0
    for lane in lanes:
        total += request[lane]
    if total <= available:  # A >= 0, so this holds whenever every request is 0
        for lane in lanes:
            fill[lane] = request[lane]
        return
    if ranks is None:
        split(request, lanes, available, flow, fill)
        return
    remaining = available
    for lane in lanes:
        fill[lane] = 0.0  # ranks after the first that does not fit get nothing
    for rank in sorted(set(ranks)):
        members = [lane for lane, lane_rank in zip(lanes, ranks, strict=True) if lane_rank == rank]
        rank_total = 0.0
        for lane in members:
            rank_total += request[lane]
        if rank_total <= remaining:
            for lane in members:
                fill[lane] = request[lane]
            remaining -= rank_total
        else:
            split(request, members, remaining, flow, fill)
            break


def split(
    request: Sequence[float],
    lanes: Sequence[int],
    available: float,
    flow: Sequence[float] | None,
    fill: list[float],
) -> None:
    """Divide ``available`` units among ``lanes`` whose requests exceed it (section 5.6).

    By orders (``flow`` None): ``q_l = r_l * A / sum r``. By baseline share: each buyer with an
    undisrupted flow ``B_l > 0`` is entitled to ``lambda * B_l``, with the water level
    ``lambda = A / sum B`` over the buyers still wanting more; a buyer whose request fits its
    entitlement gets its request and the others share what it leaves (water-filling, at most
    one round per buyer). Buyers without a baseline flow (alternates) share what the
    contracted buyers leave, by their requests.
    """
    if flow is None:
        total = 0.0
        for lane in lanes:
            total += request[lane]
        for lane in lanes:
            fill[lane] = request[lane] * available / total
        return
    remaining = available
    pending = [lane for lane in lanes if request[lane] > 0.0 and flow[lane] > 0.0]
    for lane in lanes:
        fill[lane] = 0.0
    while pending:
        weight = 0.0
        for lane in pending:
            weight += flow[lane]
        level = remaining / weight
        met = [lane for lane in pending if request[lane] <= level * flow[lane]]
        if not met:
            for lane in pending:
                fill[lane] = level * flow[lane]
            remaining = 0.0
            break
        for lane in met:
            fill[lane] = request[lane]
            remaining = max(0.0, remaining - request[lane])
        pending = [lane for lane in pending if lane not in met]
    spot = [lane for lane in lanes if not flow[lane] > 0.0]
    spot_total = 0.0
    for lane in spot:
        spot_total += request[lane]
    for lane in spot:
        fill[lane] = (
            request[lane] if spot_total <= remaining else (request[lane] * remaining / spot_total)
        )


# -- 5.7: stockpile release and allied sharing ----------------------------------------------


def cover(stock: float, mu: float) -> float:
    """``cover_b = S_b / mu_b`` in days, with the stock after phase 4 and the mean demand
    without surges; inf when ``mu_b = 0`` (section 5.7)."""
    if mu == 0.0:
        return math.inf
    return stock / mu


def need(target: float, position: float, filled: Iterable[float]) -> float:
    """``N_b = max(0, T_b - IP_b - Q_b)``, with ``Q_b`` the sum of ``filled``, today's normal
    fills toward the consumer (section 5.7)."""
    total = 0.0
    for quantity in filled:
        total += quantity
    return max(0.0, target - position - total)


def release_available(
    stock: float, fraction: float, initial: float, capacity: float, factor: float
) -> float:
    """``avail_z = min(S_z, max_daily_release_fraction * initial_z, K_z * f_z)``, never below
    0 (section 5.7)."""
    return max(0.0, min(stock, fraction * initial, scaled_capacity(capacity, factor)))


def sharing_offer(fraction: float, stock: float, floor_days: float, mu: float) -> float:
    """A donor's offer ``o_j = max_share_fraction * (S_j - donor_floor_days * mu_j)``, never
    below 0 (section 5.7)."""
    return max(0.0, fraction * (stock - floor_days * mu))


def fill_pro_rata(requests: list[float], available: float) -> list[float]:
    """Release and sharing fills (section 5.7): every request in full, or pro rata when short."""
    total = 0.0
    for r in requests:
        total += r
    if total <= available:
        return requests
    return [r * available / total for r in requests]


# -- 5.8: shipping --------------------------------------------------------------------------


def split_shipment(quantity: float, x: float, factor: float) -> tuple[float, float]:
    """``(direct, detour)`` parts of a shipment ``q_l > 0`` (section 5.8).

    ``direct = q (1 - x_l) / ((1 - x_l) + x_l F_l)`` arrives after ``L_l + Lic_l`` days, the
    rest after ``E_l`` more days.
    """
    direct = quantity * (1.0 - x) / ((1.0 - x) + x * factor)
    return direct, quantity - direct
