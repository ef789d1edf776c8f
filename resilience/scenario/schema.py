"""The typed schema of a scenario file (pydantic v2).

One model per TOML table. Every model forbids unknown keys, refuses NaN and infinities, and only
accepts integers where a float is expected (never strings for numbers), so that a typo or a
quoted number in a scenario file is an error rather than a silent default. Field descriptions are
the file-format reference: docs/scenario-format.md is generated from them (see
`resilience.outputs.format_reference`) and a test keeps the two in step.

Units: quantities are in the commodity's own unit (``Commodity.unit``); rates are units per day;
times are whole days; costs are in one currency unit per scenario (USD unless the file says
otherwise).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "DISTRIBUTION_PARAMETERS",
    "MAX_AMOUNT",
    "MAX_DAYS",
    "AlliedSharing",
    "Berths",
    "BomInput",
    "Chokepoint",
    "Commodity",
    "Country",
    "Demand",
    "DesSettings",
    "Detour",
    "Disruption",
    "Distribution",
    "Hazard",
    "Inventory",
    "Lane",
    "Meta",
    "Node",
    "NodeKind",
    "Policies",
    "Scenario",
    "Slots",
    "StockpileRelease",
    "Vessels",
]

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$",
        max_length=64,
        description="an identifier: a letter, then letters, digits, '_' or '-'",
    ),
]
NodeKind = Literal["source", "processor", "storage", "consumer"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_DAYS = 100_000
"""The most days any duration, delay, cover or distribution parameter may say: about 274 years,
beyond any horizon (at most 36,500 days), and far from where whole-day arithmetic overflows."""

MAX_AMOUNT = 1e15
"""The most any quantity, rate, price or cost may be: sums over 36,500 days and thousands of
nodes then stay far inside float64, so totals never become inf or NaN."""

MAX_RATE = 1e6
"""The most a count per unit of time may be (hazard outages per year, canal transits per day)."""

NonNegative = Annotated[float, Field(ge=0.0, le=MAX_AMOUNT)]
Positive = Annotated[float, Field(gt=0.0, le=MAX_AMOUNT)]
DayCount = Annotated[float, Field(ge=0.0, le=MAX_DAYS)]
PositiveDayCount = Annotated[float, Field(gt=0.0, le=MAX_DAYS)]
Rate = Annotated[float, Field(gt=0.0, le=MAX_RATE)]
WholeDays = Annotated[int, Field(ge=0, le=MAX_DAYS)]


class _Table(BaseModel):
    """Base of every scenario table: strict, closed, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        frozen=True,
        populate_by_name=True,
    )


# Which parameters each distribution takes; the order is the order they are stored in the
# compiled Network (`Network.dist_params` columns).
DISTRIBUTION_PARAMETERS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
    "weibull": ("shape", "scale"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "empirical": ("values", "weights"),
}


class Distribution(_Table):
    """A number of days, fixed or drawn once per occurrence. A bare number means ``fixed``."""

    dist: Literal[
        "fixed", "exponential", "lognormal", "weibull", "uniform", "triangular", "empirical"
    ]
    value: DayCount | None = Field(None, description="fixed: the number of days")
    mean: PositiveDayCount | None = Field(None, description="exponential: the mean, days")
    median: PositiveDayCount | None = Field(None, description="lognormal: the median, days")
    sigma: Annotated[float, Field(gt=0.0, le=10.0)] | None = Field(
        None, description="lognormal: the shape (log-space sd; at most 10)"
    )
    shape: Annotated[float, Field(ge=0.1, le=100.0)] | None = Field(
        None, description="weibull: the shape k (0.1 to 100)"
    )
    scale: PositiveDayCount | None = Field(None, description="weibull: the scale, days")
    low: DayCount | None = Field(None, description="uniform, triangular: the lower bound, days")
    mode: DayCount | None = Field(None, description="triangular: the most likely value, days")
    high: DayCount | None = Field(None, description="uniform, triangular: the upper bound, days")
    values: list[DayCount] | None = Field(None, description="empirical: the possible values, days")
    weights: list[Positive] | None = Field(
        None, description="empirical: their relative weights (default: equal)"
    )

    @model_validator(mode="after")
    def _parameters_fit_the_distribution(self) -> Distribution:
        wanted = DISTRIBUTION_PARAMETERS[self.dist]
        given = {name for name in _ALL_PARAMETERS if getattr(self, name) is not None}
        optional = {"weights"} if self.dist == "empirical" else set()
        missing = [name for name in wanted if name not in given and name not in optional]
        extra = sorted(given - set(wanted))
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(repr(m) for m in missing))
            if extra:
                parts.append("does not take " + ", ".join(repr(e) for e in extra))
            expected = ", ".join(wanted)
            raise ValueError(f"{self.dist} distribution {'; '.join(parts)} (expects {expected})")
        if self.dist == "uniform" and (self.low or 0.0) > (self.high or 0.0):
            raise ValueError(f"uniform needs low <= high, found low={self.low}, high={self.high}")
        if self.dist == "triangular":
            low, mode, high = self.low, self.mode, self.high
            complete = low is not None and mode is not None and high is not None
            if complete and (not low <= mode <= high or low == high):  # type: ignore[operator]
                raise ValueError(
                    f"triangular needs low <= mode <= high and low < high, "
                    f"found low={low}, mode={mode}, high={high}"
                )
        if self.dist == "empirical":
            values = self.values or []
            if not values:
                raise ValueError("empirical distribution needs at least one value")
            if self.weights is not None and len(self.weights) != len(values):
                raise ValueError(
                    f"empirical needs one weight per value, found {len(values)} values "
                    f"and {len(self.weights)} weights"
                )
        return self

    def mean_days(self) -> float:
        """The distribution's mean in days (before rounding to whole days)."""
        import math

        match self.dist:
            case "fixed":
                return float(self.value or 0.0)
            case "exponential":
                return float(self.mean or 0.0)
            case "lognormal":
                return float(self.median or 0.0) * math.exp((self.sigma or 0.0) ** 2 / 2)
            case "weibull":
                return float(self.scale or 0.0) * math.gamma(1 + 1 / (self.shape or 1.0))
            case "uniform":
                return (float(self.low or 0.0) + float(self.high or 0.0)) / 2
            case "triangular":
                return (
                    float(self.low or 0.0) + float(self.mode or 0.0) + float(self.high or 0.0)
                ) / 3
            case _:
                values = self.values or []
                weights = self.weights or [1.0] * len(values)
                return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


_ALL_PARAMETERS = (
    "value", "mean", "median", "sigma", "shape", "scale",
    "low", "mode", "high", "values", "weights",
)  # fmt: skip


def _number_means_fixed(value: Any) -> Any:
    """Let ``duration = 30`` stand for ``duration = {dist = "fixed", value = 30}``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Days = Annotated[Distribution, BeforeValidator(_number_means_fixed)]


class Meta(_Table):
    """The ``[scenario]`` table: what this scenario is and how to run it."""

    name: str = Field(min_length=1, description="a short name for tables and file names")
    description: str = Field("", description="what the scenario asks, in a sentence or two")
    horizon_days: int = Field(365, ge=1, le=36_500, description="days simulated per replication")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="the root of every random stream")
    replications: int = Field(1000, ge=1, le=10_000_000, description="Monte Carlo replications")
    recovery_threshold: float = Field(
        0.95,
        gt=0.0,
        le=1.0,
        description="daily service level (served/demand) that counts as recovered, for TTR",
    )
    recovery_window_days: int = Field(
        14,
        ge=1,
        le=36_500,
        description=(
            "days service must stay at or above recovery_threshold (or until the horizon ends) "
            "for TTR to count it as recovered"
        ),
    )


class Commodity(_Table):
    """A ``[commodities.ID]`` table: something that flows (wafers, tonnes of gallium, Mt of LNG)."""

    name: str = Field("", description="display name (default: the id)")
    unit: str = Field(min_length=1, description="the unit every quantity of it is counted in")
    price_per_unit: NonNegative = Field(0.0, description="procurement price, currency per unit")


class Country(_Table):
    """A ``[countries.ID]`` table. Use ISO 3166 alpha-2 codes as ids where they exist."""

    name: str = Field(min_length=1, description="display name")


class Inventory(_Table):
    """A node's stock of its commodity (for a processor: also of each input, in days of use)."""

    initial: NonNegative | None = Field(
        None, description="stock on hand on day 0, units (default: target_days of stock)"
    )
    initial_days: DayCount | None = Field(
        None, description="stock on hand on day 0 in days of the reference rate (or initial)"
    )
    target_days: DayCount = Field(
        0.0,
        description=(
            "days of stock to keep on hand; orders bring the position (on hand + in transit) "
            "up to this plus the expected pipeline"
        ),
    )
    capacity: Positive | None = Field(None, description="most units the node can hold")

    @model_validator(mode="after")
    def _one_way_to_say_initial(self) -> Inventory:
        if self.initial is not None and self.initial_days is not None:
            raise ValueError("give initial (units) or initial_days, not both")
        return self


class BomInput(_Table):
    """One line of a processor's bill of materials."""

    commodity: Identifier = Field(description="the input commodity id")
    per_unit: Positive = Field(description="units of input per unit of output")


class Demand(_Table):
    """A consumer's daily demand for its commodity."""

    mean_per_day: NonNegative = Field(description="mean demand, units/day")
    cv: float = Field(
        0.0,
        ge=0.0,
        le=5.0,
        description="coefficient of variation; 0 = deterministic, else lognormal",
    )


class Berths(_Table):
    """A node's unloading berths: read only by the SimPy engine in detailed mode (docs/des.md)."""

    count: int = Field(ge=1, le=10_000, description="cargoes that can unload at the same time")
    hours_per_cargo: Annotated[float, Field(gt=0.0, le=24.0 * MAX_DAYS)] = Field(
        24.0, description="hours a cargo occupies a berth"
    )


class Node(_Table):
    """A ``[nodes.ID]`` table: a place that produces, holds or consumes one commodity."""

    name: str = Field("", description="display name (default: the id)")
    country: Identifier = Field(description="owner country id")
    kind: NodeKind = Field(description="source, processor, storage or consumer")
    commodity: Identifier = Field(description="what it produces, holds or consumes")
    capacity_per_day: NonNegative | None = Field(
        None,
        description="production (source, processor) or outflow (storage) limit, units/day",
    )
    inputs: list[BomInput] = Field(
        default_factory=list, description="processor only: bill of materials"
    )
    inventory: Inventory = Field(default_factory=Inventory, description="stock and its policy")
    holding_cost: NonNegative = Field(0.0, description="currency per unit held per day")
    fixed_cost_per_day: NonNegative = Field(
        0.0, description="currency per day of keeping the node (a buffer's price)"
    )
    strategic: bool = Field(
        False, description="storage only: a government stockpile, released by policy only"
    )
    demand: Demand | None = Field(None, description="consumer only: its demand")
    berths: Berths | None = Field(
        None,
        description=(
            "DES detailed mode only: berths where cargoes (lanes with vessels) unload, "
            "count and hours_per_cargo (docs/des.md; the kernel ignores it)"
        ),
    )

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> Node:
        problems = []
        producing = self.kind in ("source", "processor")
        if producing and self.capacity_per_day is None:
            problems.append(f"a {self.kind} needs capacity_per_day")
        if self.kind == "consumer" and self.capacity_per_day is not None:
            problems.append("a consumer has no capacity_per_day (its demand is in [demand])")
        if self.inputs and self.kind != "processor":
            problems.append(f"only a processor has inputs, this node is a {self.kind}")
        if self.kind == "processor" and not self.inputs:
            problems.append("a processor needs at least one entry in inputs")
        if self.strategic and self.kind != "storage":
            problems.append(f"only a storage node can be strategic, this node is a {self.kind}")
        if self.kind == "consumer" and self.demand is None:
            problems.append("a consumer needs a [demand] table")
        if self.kind != "consumer" and self.demand is not None:
            problems.append(f"only a consumer has demand, this node is a {self.kind}")
        inputs = [entry.commodity for entry in self.inputs]
        if len(set(inputs)) != len(inputs):
            problems.append("inputs lists a commodity twice")
        if self.commodity in inputs:
            problems.append("a processor cannot consume its own output")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Detour(_Table):
    """The route a lane takes when a chokepoint on it is closed."""

    extra_days: WholeDays = Field(description="days added to the lead time")
    capacity_factor: Fraction = Field(description="share of the lane's capacity the detour carries")


class Vessels(_Table):
    """A lane's discrete shipping: read only by the SimPy engine in detailed mode (docs/des.md).

    Shipments leave as whole cargoes of ``cargo_size`` units, each on one vessel of a finite
    fleet; a cargo waits for a free vessel, which sails loaded for the lead time and comes back
    in ballast before it can load again.
    """

    cargo_size: Positive = Field(
        description="units per cargo (an LNG carrier: about 70 kt; a bulk lot of a mineral)"
    )
    fleet: int = Field(ge=1, le=100_000, description="vessels serving the lane")
    ballast_days: DayCount | None = Field(
        None, description="days an empty vessel takes to come back (default: the lead time)"
    )


class Lane(_Table):
    """A ``[lanes.ID]`` table: a route carrying one commodity from one node to another."""

    from_: Identifier = Field(alias="from", description="origin node id")
    to: Identifier = Field(description="destination node id")
    commodity: Identifier = Field(description="what it carries: the origin's commodity")
    lead_time_days: int = Field(ge=1, le=3650, description="days from shipping to arrival")
    capacity_per_day: Positive | None = Field(None, description="units/day (default: unbounded)")
    cost_per_unit: NonNegative = Field(0.0, description="shipping cost, currency per unit")
    chokepoints: list[Identifier] = Field(
        default_factory=list, description="chokepoint ids the route passes"
    )
    share: Fraction | None = Field(
        None,
        description=(
            "share of the destination's orders for this commodity; lanes into one destination "
            "that give shares must sum to 1, lanes without one are then alternates"
        ),
    )
    detour: Detour | None = Field(
        None, description="overrides the chokepoints' detour for this lane"
    )
    vessels: Vessels | None = Field(
        None,
        description=(
            "DES detailed mode only: whole cargoes on a finite fleet, cargo_size, fleet and "
            "ballast_days (docs/des.md; the kernel ignores it; [des] detail = false too)"
        ),
    )

    @model_validator(mode="after")
    def _no_repeated_chokepoint(self) -> Lane:
        if len(set(self.chokepoints)) != len(self.chokepoints):
            raise ValueError("chokepoints lists a chokepoint twice")
        return self


class Slots(_Table):
    """A chokepoint's transit slots: read only by the SimPy engine in detailed mode (docs/des.md).

    Vessels of lanes with ``vessels`` queue for the slots; a closure level ``v`` on the
    chokepoint removes the share ``v`` of the slots, and a vessel takes the detour (if any)
    when its expected wait is longer.
    """

    per_day: Rate = Field(description="transits per day for the vessels' class (LNG: 7)")
    other_traffic_per_day: Annotated[float, Field(ge=0.0, le=MAX_RATE)] = Field(
        0.0, description="transits per day taken by ships the scenario does not model"
    )


class Chokepoint(_Table):
    """A ``[chokepoints.ID]`` table: a strait or canal that lanes pass."""

    name: str = Field(min_length=1, description="display name")
    detour_days: WholeDays | None = Field(
        None, description="extra days on the detour when closed (absent: no detour, lanes stop)"
    )
    capacity_factor: Fraction = Field(
        1.0, description="share of a lane's capacity the detour can carry"
    )
    slots: Slots | None = Field(
        None,
        description=(
            "DES detailed mode only: transit slots vessels queue for, per_day and "
            "other_traffic_per_day (docs/des.md; the kernel ignores it)"
        ),
    )


DisruptionKind = Literal["node", "lane", "chokepoint", "export_restriction", "demand_surge"]


class Disruption(_Table):
    """A ``[disruptions.ID]`` table: one named event that may happen in each replication."""

    kind: DisruptionKind = Field(
        description="node, lane, chokepoint, export_restriction or demand_surge"
    )
    description: str = Field("", description="what happened or is assumed, with its source")
    target: Identifier | None = Field(
        None,
        description="node, lane or chokepoint id (demand_surge: a consumer node id)",
    )
    origin: Identifier | None = Field(None, description="export_restriction: exporting country")
    commodity: Identifier | None = Field(None, description="export_restriction: the commodity")
    destinations: list[Identifier] | None = Field(
        None, description="export_restriction: countries affected (default: all others)"
    )
    licensing_delay_days: WholeDays = Field(
        0, description="export_restriction: extra days for the exports that are licensed"
    )
    start: Days = Field(
        default_factory=lambda: Distribution(dist="fixed", value=0.0),
        description="day it starts: a number or a distribution",
    )
    duration: Days = Field(description="days at full severity: a number or a distribution")
    severity: Fraction = Field(
        1.0,
        description=(
            "share of capacity lost (node, lane), closure level (chokepoint), share of exports "
            "blocked (export_restriction), demand increase (demand_surge)"
        ),
    )
    recovery_days: WholeDays = Field(0, description="days of linear recovery after the duration")
    probability: Fraction = Field(1.0, description="chance it occurs in a replication")

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> Disruption:
        problems = []
        if self.kind == "export_restriction":
            if self.target is not None:
                problems.append("an export_restriction has origin and commodity, not target")
            if self.origin is None or self.commodity is None:
                problems.append("an export_restriction needs origin and commodity")
        else:
            if self.target is None:
                problems.append(f"a {self.kind} disruption needs target")
            given = [k for k in ("origin", "commodity", "destinations") if getattr(self, k)]
            if given or self.licensing_delay_days:
                extra = given + (["licensing_delay_days"] if self.licensing_delay_days else [])
                problems.append(
                    f"{', '.join(extra)} only apply to an export_restriction, not to a {self.kind}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Hazard(_Table):
    """A ``[hazards.ID]`` table: random outages that strike a class of nodes at an annual rate."""

    description: str = Field("", description="what the hazard is, with its source")
    kinds: list[NodeKind] = Field(default_factory=list, description="node kinds hit (empty: all)")
    countries: list[Identifier] = Field(
        default_factory=list, description="countries hit (empty: all)"
    )
    commodities: list[Identifier] = Field(
        default_factory=list, description="commodities hit (empty: all)"
    )
    annual_rate: Rate = Field(description="outages per node per year")
    duration: Days = Field(description="outage days: a number or a distribution")
    severity: Fraction = Field(1.0, description="share of capacity lost")
    recovery_days: WholeDays = Field(0, description="days of linear recovery")


class StockpileRelease(_Table):
    """When strategic stockpiles release to the consumers their lanes reach."""

    trigger_cover_days: DayCount = Field(
        7.0, description="release when a consumer's stock falls below this many days of demand"
    )
    max_daily_release_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.05, description="most a stockpile releases per day, as a share of its initial stock"
    )


class AlliedSharing(_Table):
    """Emergency sharing of stock between consumers of the same commodity in member countries."""

    members: list[Identifier] = Field(min_length=2, description="countries in the sharing pact")
    commodities: list[Identifier] = Field(
        default_factory=list, description="commodities shared (empty: all)"
    )
    trigger_cover_days: DayCount = Field(
        5.0, description="a member asks when its stock falls below this many days of demand"
    )
    donor_floor_days: DayCount = Field(
        10.0, description="a member gives only stock above this many days of its own demand"
    )
    max_share_fraction: Fraction = Field(
        0.5, description="most of its stock above the floor a donor gives per day"
    )
    lead_time_days: int = Field(7, ge=1, le=365, description="days for shared stock to arrive")

    @model_validator(mode="after")
    def _donors_are_never_recipients(self) -> AlliedSharing:
        if self.donor_floor_days < self.trigger_cover_days:
            raise ValueError(
                f"donor_floor_days ({self.donor_floor_days}) must be >= trigger_cover_days "
                f"({self.trigger_cover_days}), or a member could give and ask on the same day"
            )
        return self


class Policies(_Table):
    """The ``[policies]`` table: the levers the resilience-efficiency analysis turns."""

    allocation: Literal["pro_rata", "priority"] = Field(
        "pro_rata", description="how a supplier short of stock divides it"
    )
    priority_order: list[Identifier] = Field(
        default_factory=list,
        description="priority allocation: country ids served first, in order",
    )
    pro_rata_by: Literal["share", "orders"] = Field(
        "share",
        description=(
            "how a short supplier divides stock pro rata (within a rank, for priority): by each "
            "buyer's share of its undisrupted flow (contracted volumes), or by today's orders"
        ),
    )
    order_target: Literal["adaptive", "fixed"] = Field(
        "adaptive",
        description=(
            "order-up-to positions: 'adaptive' adds the pipeline of a known detour, licensing "
            "delay or demand surge to the target; 'fixed' keeps the undisrupted target"
        ),
    )
    switching_delay_days: WholeDays = Field(
        30, description="days before orders move from an impaired lane to its alternates"
    )
    switching_delay_by_commodity: dict[Identifier, WholeDays] = Field(
        default_factory=dict, description="per-commodity switching delays (chips: requalification)"
    )
    stockpile_release: StockpileRelease = Field(
        default_factory=StockpileRelease, description="strategic stockpile release rule"
    )
    allied_sharing: AlliedSharing | None = Field(
        None, description="emergency sharing between members (absent: no sharing)"
    )

    @model_validator(mode="after")
    def _priority_needs_an_order(self) -> Policies:
        if self.allocation == "priority" and not self.priority_order:
            raise ValueError("allocation = 'priority' needs a non-empty priority_order")
        if len(set(self.priority_order)) != len(self.priority_order):
            raise ValueError("priority_order lists a country twice")
        return self


class DesSettings(_Table):
    """The ``[des]`` table: options of the SimPy engine (docs/des.md); the kernel ignores it."""

    detail: bool = Field(
        True,
        description=(
            "use the vessels, berths and slots tables (false: the fluid model, which agrees "
            "with the kernel)"
        ),
    )
    time_of_day: bool = Field(
        False, description="disruptions start and end at a drawn time of day (detailed mode)"
    )


class Scenario(_Table):
    """A whole resolved scenario: the top level of a scenario file after ``extends`` is applied."""

    scenario: Meta = Field(description="name, horizon, seed, replications")
    commodities: dict[Identifier, Commodity] = Field(min_length=1, description="commodities")
    countries: dict[Identifier, Country] = Field(min_length=1, description="countries")
    chokepoints: dict[Identifier, Chokepoint] = Field(
        default_factory=dict, description="chokepoints"
    )
    nodes: dict[Identifier, Node] = Field(min_length=1, description="nodes")
    lanes: dict[Identifier, Lane] = Field(min_length=1, description="lanes")
    disruptions: dict[Identifier, Disruption] = Field(
        default_factory=dict, description="named disruptions"
    )
    hazards: dict[Identifier, Hazard] = Field(
        default_factory=dict, description="background hazards"
    )
    policies: Policies = Field(default_factory=Policies, description="policies")
    des: DesSettings | None = Field(
        None,
        description=(
            "[des] table, SimPy engine only: detail (bool, default true) and time_of_day "
            "(bool, default false); see docs/des.md"
        ),
    )
