"""Randomness and the sampled timeline of the reference engine (docs/model.md, sections 3 and 4).

Plain Python, written to be read beside the model page: the counter-based uniform of section 4.2
on Python integers masked to 64 bits, the transforms of section 4.3, and the timeline of one
replication, the list of `Occurrence`s of the scenario disruptions (3.2) and of the background
hazards (3.3). Other engines are checked against `sample_timeline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from resilience.network.arrays import DISRUPTION_KIND_CODES, DISTRIBUTION_CODES, Network

__all__ = [
    "Occurrence",
    "distribution_sample",
    "mix",
    "round_days",
    "sample_timeline",
    "standard_normal",
    "uniform",
]

_MASK64 = (1 << 64) - 1
_KIND_NAMES = {code: name for name, code in DISRUPTION_KIND_CODES.items()}
_DIST = DISTRIBUTION_CODES


def mix(z: int) -> int:
    """The SplitMix64 step on an unsigned 64-bit integer (section 4.2)."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def uniform(seed: int, replication: int, key64: int, k: int) -> float:
    """Draw number ``k`` of the stream ``key64`` in replication ``replication`` (section 4.2).

    ``key64`` is the uint64 stream key stored in the Network (``dis_stream``,
    ``haz_pair_stream``, ``node_demand_stream``), converted with ``int()``.
    """
    h = mix(mix(mix(mix(seed & _MASK64) ^ replication) ^ key64) ^ k)
    # model.md ambiguity (4.2): "strictly inside (0, 1)" holds in exact arithmetic only. In
    # float64, (h >> 11) + 0.5 rounds to even once h >> 11 >= 2^52, and for h >> 11 = 2^53 - 1 it
    # rounds to 2^53, so u = 1.0 (probability 2^-53). We compute it as written, as a float64
    # engine does, and do not special-case it.
    return ((h >> 11) + 0.5) * 2.0**-53


def round_days(x: float) -> int:
    """Whole days, halves rounded up, never negative: ``max(0, floor(x + 0.5))`` (section 4.3)."""
    return max(0, math.floor(x + 0.5))


def standard_normal(u_a: float, u_b: float) -> float:
    """Box-Muller, cosine branch: ``sqrt(-2 ln u_a) * cos(2 pi u_b)`` (section 4.3)."""
    return math.sqrt(-2.0 * math.log(u_a)) * math.cos(2.0 * math.pi * u_b)


def distribution_sample(network: Network, dist: int, u_a: float, u_b: float) -> float:
    """A value (days, before rounding) of distribution row ``dist`` from the slot pair's uniforms.

    A distribution that needs one uniform uses ``u_a``, the first slot of its pair; the standard
    normal of the lognormal uses both.
    """
    kind = int(network.dist_kind[dist])
    p0, p1, p2 = (float(x) for x in network.dist_params[dist])
    if kind == _DIST["fixed"]:
        return p0
    if kind == _DIST["exponential"]:
        mean = p0
        return -mean * math.log(u_a)
    if kind == _DIST["lognormal"]:
        median, sigma = p0, p1
        return median * math.exp(sigma * standard_normal(u_a, u_b))
    if kind == _DIST["weibull"]:
        shape, scale = p0, p1
        return scale * float((-math.log(u_a)) ** (1.0 / shape))
    if kind == _DIST["uniform"]:
        low, high = p0, p1
        return low + (high - low) * u_a
    if kind == _DIST["triangular"]:
        low, mode, high = p0, p1, p2
        if high == low:
            return low
        split = (mode - low) / (high - low)
        if u_a < split:
            return low + math.sqrt(u_a * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u_a) * (high - low) * (high - mode))
    if kind == _DIST["empirical"]:
        start, end = int(network.dist_values_ptr[dist]), int(network.dist_values_ptr[dist + 1])
        # model.md ambiguity (4.3): the doc picks the smallest i with
        # u * sum(w) < w_0 + ... + w_i; the Network stores the cumulative weights already divided
        # by their sum (last = 1), so we test u < cdf_i, the same rule up to rounding.
        for i in range(start, end):
            if u_a < float(network.dist_cdf[i]):
                return float(network.dist_values[i])
        return float(network.dist_values[end - 1])  # only reachable when u rounds to 1.0
    raise ValueError(f"unknown distribution code {kind}")


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of the timeline (sections 3.2, 3.3, 4.3).

    Attributes:
        source: the id of the scenario disruption, or for a hazard event the hazard's stream name
            ``"<hazard id>:<node id>"`` (ids contain no ``:``, so the two cannot collide).
        kind: the disruption kind (a key of ``DISRUPTION_KIND_CODES``); hazard events are
            ``"node"``.
        target: node, lane or chokepoint row; -1 for an export restriction.
        a: first day at full severity.
        e: ``a + D``, the first day after the full-severity period.
        s: severity.
        R: recovery ramp, days.
    """

    source: str
    kind: str
    target: int
    a: int
    e: int
    s: float
    R: int

    def level(self, t: int) -> float:
        """The level on day ``t`` (section 3.2)."""
        if self.a <= t < self.e:
            return self.s
        u = t - self.e
        if 0 <= u <= self.R - 1:
            return self.s * (self.R - u) / (self.R + 1)
        return 0.0

    def in_effect(self, t: int) -> bool:
        """Whether day ``t`` is in ``a <= t < e + R`` (section 3.2)."""
        return self.a <= t < self.e + self.R


def sample_timeline(network: Network, replication: int) -> list[Occurrence]:
    """Every occurrence of one replication, scenario disruptions first (in compiled order), then
    hazard events (by hazard, by node, in time order).

    This order is also the order in which the reference engine multiplies the factors of
    section 3.4.
    """
    # model.md ambiguity (3.2/4.3): the doc does not say whether an occurrence that starts at or
    # after H belongs to the timeline. A scenario disruption whose Bernoulli draw succeeds has
    # "exactly one occurrence", so we keep it whatever its start (it has no effect); hazard events
    # with a >= H are discarded, as section 3.3 says.
    seed = network.seed
    timeline: list[Occurrence] = []
    for d, name in enumerate(network.disruption_ids):
        key = int(network.dis_stream[d])

        def u(k: int, key: int = key) -> float:
            return uniform(seed, replication, key, k)

        if not u(0) < float(network.dis_probability[d]):
            continue
        a = round_days(distribution_sample(network, int(network.dis_start[d]), u(1), u(2)))
        duration = round_days(
            distribution_sample(network, int(network.dis_duration[d]), u(3), u(4))
        )
        timeline.append(
            Occurrence(
                source=name,
                kind=_KIND_NAMES[int(network.dis_kind[d])],
                target=int(network.dis_target[d]),
                a=a,
                e=a + duration,
                s=float(network.dis_severity[d]),
                R=int(network.dis_recovery_days[d]),
            )
        )

    horizon = network.horizon_days
    for z, hazard_id in enumerate(network.hazard_ids):
        # model.md ambiguity (3.3): the up time is Exponential(mean 365 / lambda); the Network
        # stores only lambda / 365 per day, so the mean is computed as 1 / haz_rate_per_day,
        # which can differ from 365 / lambda in the last bit.
        mean_up = 1.0 / float(network.haz_rate_per_day[z])
        severity = float(network.haz_severity[z])
        ramp = int(network.haz_recovery_days[z])
        duration_dist = int(network.haz_duration[z])
        for pair in range(int(network.haz_node_ptr[z]), int(network.haz_node_ptr[z + 1])):
            node = int(network.haz_nodes[pair])
            key = int(network.haz_pair_stream[pair])
            source = f"{hazard_id}:{network.node_ids[node]}"
            j = 0
            a = round_days(-mean_up * math.log(uniform(seed, replication, key, 0)))
            while a < horizon:
                u_a = uniform(seed, replication, key, 3 * j + 1)
                u_b = uniform(seed, replication, key, 3 * j + 2)
                duration = round_days(distribution_sample(network, duration_dist, u_a, u_b))
                e = a + duration
                timeline.append(Occurrence(source, "node", node, a, e, severity, ramp))
                j += 1
                up = -mean_up * math.log(uniform(seed, replication, key, 3 * j))
                a = e + ramp + round_days(up)
    return timeline
