"""The detailed-mode options of the SimPy engine, resolved against a compiled Network.

A scenario switches detail on element by element: ``[lanes.ID.vessels]`` (whole cargoes on a
finite fleet), ``[nodes.ID.berths]`` (unloading berths), ``[chokepoints.ID.slots]`` (canal
transit slots), and ``[des] time_of_day = true`` (disruptions start and end at a drawn time of
day). ``[des] detail = false`` ignores all of them, which gives the fluid model of docs/model.md
whatever the tables say. The kernel never reads any of this. docs/des.md gives the semantics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resilience.network.arrays import Network
from resilience.scenario.schema import Berths, Scenario, Slots, Vessels

__all__ = ["FLUID", "DetailOptions"]


@dataclass(frozen=True)
class DetailOptions:
    """Which elements get discrete detail, by row of the compiled Network.

    Attributes:
        vessels: lane row -> its cargo size (units), fleet and ballast days.
        berths: node row -> its berths.
        slots: chokepoint row -> its transit slots per day.
        time_of_day: shift every occurrence by a drawn fraction of a day.
    """

    vessels: dict[int, Vessels] = field(default_factory=dict)
    berths: dict[int, Berths] = field(default_factory=dict)
    slots: dict[int, Slots] = field(default_factory=dict)
    time_of_day: bool = False

    @property
    def detailed(self) -> bool:
        """Whether anything differs from the fluid model."""
        return bool(self.vessels or self.berths or self.slots or self.time_of_day)

    @property
    def mode(self) -> str:
        """``"detailed"`` or ``"fluid"``."""
        return "detailed" if self.detailed else "fluid"

    @property
    def slot_chokes(self) -> frozenset[int]:
        """Chokepoints whose closures act on slots rather than on the lanes' flow split."""
        return frozenset(self.slots)

    @classmethod
    def from_scenario(cls, scenario: Scenario, network: Network) -> DetailOptions:
        """The options a scenario sets (none when ``[des] detail = false``)."""
        settings = scenario.des
        if settings is not None and not settings.detail:
            return FLUID
        vessels = {
            network.lane_row[lane_id]: lane.vessels
            for lane_id, lane in scenario.lanes.items()
            if lane.vessels is not None
        }
        berths = {
            network.node_row[node_id]: node.berths
            for node_id, node in scenario.nodes.items()
            if node.berths is not None
        }
        slots = {
            network.chokepoint_row[choke_id]: choke.slots
            for choke_id, choke in scenario.chokepoints.items()
            if choke.slots is not None
        }
        return cls(
            vessels=vessels,
            berths=berths,
            slots=slots,
            time_of_day=settings is not None and settings.time_of_day,
        )


FLUID = DetailOptions()
"""No detail: the fluid model of docs/model.md."""
