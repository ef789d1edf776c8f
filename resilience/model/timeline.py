"""Randomness and the sampled timeline of the reference engine (docs/model.md, sections 3 and 4).

The arithmetic is not restated here: the counter-based uniform of section 4.2, the transforms of
section 4.3 and the sampling of occurrences and hazard renewals are the compiled functions of
`kernels.rng`, `kernels.draws` and `kernels.timeline`, which the Monte Carlo kernel calls too.
This module gives them Python signatures (Python integers in and out) and builds the timeline of
one replication as a list of `Occurrence`s: the scenario disruptions (3.2) and the background
hazards (3.3). Other engines are checked against `sample_timeline`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels import draws, elementary, rng
from kernels import timeline as compiled
from resilience.network.arrays import DISRUPTION_KIND_CODES, DISTRIBUTION_CODES, Network

__all__ = [
    "Occurrence",
    "distribution_sample",
    "exp",
    "mix",
    "round_days",
    "sample_timeline",
    "standard_normal",
    "uniform",
]

_MASK64 = (1 << 64) - 1
_KIND_NAMES = {code: name for name, code in DISRUPTION_KIND_CODES.items()}
_KNOWN_DISTRIBUTIONS = frozenset(DISTRIBUTION_CODES.values())


def mix(z: int) -> int:
    """The SplitMix64 step on an unsigned 64-bit integer (section 4.2; `kernels.rng.mix`)."""
    return int(rng.mix(np.uint64(z & _MASK64)))


def uniform(seed: int, replication: int, key64: int, k: int) -> float:
    """Draw number ``k`` of the stream ``key64`` in replication ``replication`` (section 4.2).

    ``key64`` is the uint64 stream key stored in the Network (``dis_stream``,
    ``haz_pair_stream``, ``node_demand_stream``), converted with ``int()``.
    """
    # model.md ambiguity (4.2): "strictly inside (0, 1)" holds in exact arithmetic only. In
    # float64, (h >> 11) + 0.5 rounds to even once h >> 11 >= 2^52, and for h >> 11 = 2^53 - 1 it
    # rounds to 2^53, so u = 1.0 (probability 2^-53). We compute it as written, as a float64
    # engine does, and do not special-case it.
    return float(
        rng.uniform(
            np.uint64(seed & _MASK64),
            np.uint64(replication & _MASK64),
            np.uint64(key64 & _MASK64),
            np.uint64(k & _MASK64),
        )
    )


def round_days(x: float) -> int:
    """Whole days, halves rounded up, never negative: ``max(0, floor(x + 0.5))`` (section 4.3)."""
    return int(draws.round_days(float(x)))


def standard_normal(u_a: float, u_b: float) -> float:
    """Box-Muller, cosine branch: ``sqrt(-2 ln u_a) * cos(2 pi u_b)`` (section 4.3)."""
    return float(draws.standard_normal(float(u_a), float(u_b)))


def exp(x: float) -> float:
    """``e**x`` as the kernel computes it (`kernels.elementary.exp`, within 1 ulp of
    ``math.exp``), for the lognormal demand of section 4.3."""
    return float(elementary.exp(float(x)))


def distribution_sample(network: Network, dist: int, u_a: float, u_b: float) -> float:
    """A value (days, before rounding) of distribution row ``dist`` from the slot pair's uniforms.

    A distribution that needs one uniform uses ``u_a``, the first slot of its pair; the standard
    normal of the lognormal uses both.
    """
    # model.md ambiguity (4.3), empirical: the doc picks the smallest i with
    # u * sum(w) < w_0 + ... + w_i; the Network stores the cumulative weights already divided by
    # their sum (last = 1), so the compiled rule tests u < cdf_i, the same rule up to rounding.
    kind = int(network.dist_kind[dist])
    if kind not in _KNOWN_DISTRIBUTIONS:
        raise ValueError(f"unknown distribution code {kind}")
    return float(
        draws.distribution_value(
            int(dist), network.dist_kind, network.dist_params, network.dist_values_ptr,
            network.dist_values, network.dist_cdf, float(u_a), float(u_b),
        )
    )  # fmt: skip


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
        """The level on day ``t`` (section 3.2; `kernels.timeline.occurrence_level`)."""
        return float(compiled.occurrence_level(t, self.a, self.e, self.s, self.R))

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
    seed = np.uint64(network.seed & _MASK64)
    rep = np.uint64(replication)
    tables = (
        network.dist_kind,
        network.dist_params,
        network.dist_values_ptr,
        network.dist_values,
        network.dist_cdf,
    )
    timeline: list[Occurrence] = []
    for d, name in enumerate(network.disruption_ids):
        on, a, e = compiled.disruption_occurrence(
            network.dis_probability[d], network.dis_start[d], network.dis_duration[d], *tables,
            seed, rep, network.dis_stream[d],
        )  # fmt: skip
        if not on:
            continue
        timeline.append(
            Occurrence(
                source=name,
                kind=_KIND_NAMES[int(network.dis_kind[d])],
                target=int(network.dis_target[d]),
                a=int(a),
                e=int(e),
                s=float(network.dis_severity[d]),
                R=int(network.dis_recovery_days[d]),
            )
        )

    horizon = network.horizon_days
    for z, hazard_id in enumerate(network.hazard_ids):
        # model.md ambiguity (3.3): the up time is Exponential(mean 365 / lambda); the Network
        # stores only lambda / 365 per day, so the up time is computed as -ln(u) /
        # haz_rate_per_day, which can differ from -(365 / lambda) ln(u) in the last bit.
        severity = float(network.haz_severity[z])
        ramp = int(network.haz_recovery_days[z])
        for pair in range(int(network.haz_node_ptr[z]), int(network.haz_node_ptr[z + 1])):
            node = int(network.haz_nodes[pair])
            source = f"{hazard_id}:{network.node_ids[node]}"
            j, previous_end = 0, 0
            while True:
                a, e = compiled.hazard_event(
                    j, previous_end, network.haz_rate_per_day[z], network.haz_duration[z],
                    *tables, seed, rep, network.haz_pair_stream[pair],
                )  # fmt: skip
                if a >= horizon:
                    break
                timeline.append(Occurrence(source, "node", node, int(a), int(e), severity, ramp))
                j += 1
                previous_end = int(e) + ramp
    return timeline
