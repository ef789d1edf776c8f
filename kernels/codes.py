"""The one source of the codes, column layouts and tolerances that kernels and engines share.

Every integer code stored in a compiled Network, every column of the outputs an engine fills and
the short-day tolerance of docs/model.md section 7 are defined here once. ``kernels`` use the
integer constants; ``resilience`` (network/arrays.py, model/outcomes.py) reads the name tables
below, so neither side restates the other.
"""

from __future__ import annotations

__all__ = [
    "ALLOCATION_CODES",
    "CONSERVATION_TERMS",
    "CONSUMER_METRICS",
    "DISRUPTION_KIND_CODES",
    "DISTRIBUTION_CODES",
    "LANE_MODE_CODES",
    "MAX_DRAWN_DAYS",
    "NETWORK_METRICS",
    "NODE_KIND_CODES",
    "N_CONSERVATION",
    "N_CONSUMER_METRICS",
    "N_NETWORK_METRICS",
    "SHORT_DAY_TOLERANCE",
]

MAX_DRAWN_DAYS = 1_000_000
"""The most days a drawn start, duration or up time is rounded to (docs/model.md 4.3): far past
any horizon (at most 36,500 days), so the cap changes no result, while a heavy tail (a lognormal
with a large sigma) or an infinite draw can no longer overflow whole-day int64 arithmetic."""

# ---- node kinds (Network.node_kind, int8) ----------------------------------------------------
SOURCE, PROCESSOR, STORAGE, CONSUMER = 0, 1, 2, 3
NODE_KIND_CODES = {
    "source": SOURCE,
    "processor": PROCESSOR,
    "storage": STORAGE,
    "consumer": CONSUMER,
}

# ---- lane modes (Network.lane_mode, int8) ------------------------------------------------------
NORMAL, RELEASE, SHARING = 0, 1, 2
LANE_MODE_CODES = {"normal": NORMAL, "release": RELEASE, "sharing": SHARING}

# ---- disruption kinds (Network.dis_kind, int8) -------------------------------------------------
NODE, LANE, CHOKEPOINT, EXPORT, SURGE = 0, 1, 2, 3, 4
DISRUPTION_KIND_CODES = {
    "node": NODE,
    "lane": LANE,
    "chokepoint": CHOKEPOINT,
    "export_restriction": EXPORT,
    "demand_surge": SURGE,
}

# ---- distributions (Network.dist_kind, int8; docs/model.md 4.3) --------------------------------
FIXED, EXPONENTIAL, LOGNORMAL, WEIBULL, UNIFORM, TRIANGULAR, EMPIRICAL = 0, 1, 2, 3, 4, 5, 6
DISTRIBUTION_CODES = {
    "fixed": FIXED,
    "exponential": EXPONENTIAL,
    "lognormal": LOGNORMAL,
    "weibull": WEIBULL,
    "uniform": UNIFORM,
    "triangular": TRIANGULAR,
    "empirical": EMPIRICAL,
}

# ---- allocation rules (Network.allocation) -----------------------------------------------------
PRO_RATA, PRIORITY = 0, 1
ALLOCATION_CODES = {"pro_rata": PRO_RATA, "priority": PRIORITY}

# ---- consumer metrics: columns of the (R, N_CONSUMER_METRICS) outputs (docs/model.md 7) -------
CONSUMER_METRICS: tuple[str, ...] = (
    "demand",  # units, sum of daily (surged) demand
    "served",  # units
    "shortfall",  # units, demand - served
    "fill_rate",  # served / demand (1 when demand is 0)
    "days_short",  # days with shortfall > SHORT_DAY_TOLERANCE * max(1, demand of the day)
    "peak_shortfall",  # units/day, the largest daily shortfall
    "tts",  # days, time to survive; NaN without a shortfall
    "ttr",  # days, time to recover; NaN without a shortfall
    "censored",  # 1.0 when service had not recovered by the end of the horizon
    "loss_area",  # service-days, sum of (1 - served/demand)
    "procurement_cost",  # currency
    "shipping_cost",  # currency, lanes into the consumer
    "holding_cost",  # currency, the consumer's own stock
    "spells",  # spells of shortage: maximal runs of consecutive short days
)
DEMAND, SERVED, SHORTFALL, FILL_RATE, DAYS_SHORT, PEAK_SHORTFALL = 0, 1, 2, 3, 4, 5
TTS, TTR, CENSORED, LOSS_AREA, PROCUREMENT_COST, SHIPPING_COST, HOLDING_COST, SPELLS = (
    6, 7, 8, 9, 10, 11, 12, 13,
)  # fmt: skip
N_CONSUMER_METRICS = len(CONSUMER_METRICS)

# ---- network metrics: columns of the (N_NETWORK_METRICS,) outputs ------------------------------
NETWORK_METRICS: tuple[str, ...] = (
    "shipping_cost_total",  # currency, all lanes
    "holding_cost_total",  # currency, all buffers
    "fixed_cost_total",  # currency, horizon x fixed cost of every node
)
SHIPPING_COST_TOTAL, HOLDING_COST_TOTAL, FIXED_COST_TOTAL = 0, 1, 2
N_NETWORK_METRICS = len(NETWORK_METRICS)

# ---- conservation terms: columns of the (C, N_CONSERVATION) outputs (docs/model.md 7.3) -------
CONSERVATION_TERMS: tuple[str, ...] = (
    "initial_stock",
    "initial_transit",
    "produced",
    "consumed_demand",
    "consumed_inputs",
    "final_stock",
    "final_transit",
    "lost",
)
INITIAL_STOCK, INITIAL_TRANSIT, PRODUCED, CONSUMED_DEMAND, CONSUMED_INPUTS = 0, 1, 2, 3, 4
FINAL_STOCK, FINAL_TRANSIT, LOST = 5, 6, 7
N_CONSERVATION = len(CONSERVATION_TERMS)

SHORT_DAY_TOLERANCE = 1e-9
"""A day is short when shortfall > SHORT_DAY_TOLERANCE * max(1, demand of the day) (model.md 7)."""


def _check() -> None:
    """The index constants agree with the name tables (run at import; cheap)."""
    for names, pairs in (
        (CONSUMER_METRICS, {"demand": DEMAND, "served": SERVED, "shortfall": SHORTFALL,
                            "fill_rate": FILL_RATE, "days_short": DAYS_SHORT,
                            "peak_shortfall": PEAK_SHORTFALL, "tts": TTS, "ttr": TTR,
                            "censored": CENSORED, "loss_area": LOSS_AREA,
                            "procurement_cost": PROCUREMENT_COST, "shipping_cost": SHIPPING_COST,
                            "holding_cost": HOLDING_COST, "spells": SPELLS}),
        (NETWORK_METRICS, {"shipping_cost_total": SHIPPING_COST_TOTAL,
                           "holding_cost_total": HOLDING_COST_TOTAL,
                           "fixed_cost_total": FIXED_COST_TOTAL}),
        (CONSERVATION_TERMS, {"initial_stock": INITIAL_STOCK, "initial_transit": INITIAL_TRANSIT,
                              "produced": PRODUCED, "consumed_demand": CONSUMED_DEMAND,
                              "consumed_inputs": CONSUMED_INPUTS, "final_stock": FINAL_STOCK,
                              "final_transit": FINAL_TRANSIT, "lost": LOST}),
    ):  # fmt: skip
        if dict(zip(names, range(len(names)), strict=True)) != pairs:
            raise AssertionError(f"index constants disagree with {names}")


_check()
