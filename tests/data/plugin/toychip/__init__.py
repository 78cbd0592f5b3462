"""toychip: a minimal out-of-tree spikec target (README, "Adding a target").

It is what a target author writes: a spec of sourced limits, an options dataclass, a compile
function built on the shared flow, a cost table, and a timing model.  Installed, it registers
itself under the ``spikec.targets`` entry point (see ``toychip-0.1.dist-info/entry_points.txt``,
which ``pip install`` writes from ``[project.entry-points."spikec.targets"]``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from spikec.hardware import HardwareSpec, Sourced
from spikec.runtime.cost import CostTable, estimate
from spikec.targets import Options, Target, Timing, option
from spikec.targets.pipeline import compile_for

_DOC = "toychip datasheet (a made-up chip for spikec's plug-in test)"

SPEC = HardwareSpec(
    name="Toy chip",
    neurons_per_core=Sourced(64, f"{_DOC}: 64 neurons per core"),
    weight_bits=Sourced(6, f"{_DOC}: 6-bit signed weights"),
    state_bits=Sourced(16, f"{_DOC}: 16-bit u and v"),
    decay_bits=Sourced(8, f"{_DOC}: 8-bit decays"),
    max_delay=Sourced(7, f"{_DOC}: 3-bit delays"),
    mesh_x=Sourced(4, f"{_DOC}: 4 x 4 cores"),
    mesh_y=Sourced(4, f"{_DOC}: 4 x 4 cores"),
    u_overflow="saturate",
)

# Two steps per hop: the chip's router takes a step of its own.
TIMING = Timing(2, f"{_DOC}: one step in the core, one in the router")


@dataclass(frozen=True)
class ToyOptions(Options):
    target: ClassVar[str] = "toychip"

    weight_bits: int | None = option(None, type="int", unit="bits", low=2, high=6, source=SPEC.weight_bits.source,
                                     help="signed weight width (default: 6)")
    toy_voltage: float = option(0.8, type="float", unit="V", low=0.6, high=1.1,
                                source=f"{_DOC}: supply range", help="supply voltage (scales dynamic energy)")


def _compile(graph, options, calibration):  # type: ignore[no-untyped-def]
    return compile_for(graph, SPEC, options, target="toychip", timing=TIMING, calibration=calibration)


def _price(counters, program):  # type: ignore[no-untyped-def]
    # Dynamic energy goes with C V^2: the constants are quoted at 0.8 V.
    volts = program.metadata.get("options", {}).get("toy_voltage", 0.8)
    scaled = {f.name: Sourced(getattr(COSTS, f.name).value * (volts / 0.8) ** 2,
                              f"{getattr(COSTS, f.name).source}, x ({volts} V / 0.8 V)^2")
              for f in dataclasses.fields(COSTS)
              if f.name.startswith("e_") and getattr(COSTS, f.name).value is not None}
    return estimate(counters, dataclasses.replace(COSTS, **scaled))


COSTS = CostTable(
    name="Toy chip (made-up constants)",
    e_sop=Sourced(10e-12, f"{_DOC}: 10 pJ per synaptic op"),
    e_nu_active=Sourced(20e-12, f"{_DOC}: 20 pJ per active neuron update"),
    t_sop=Sourced(1e-9, f"{_DOC}: 1 ns per synaptic op"),
    t_nu=Sourced(2e-9, f"{_DOC}: 2 ns per neuron update"),
)

TARGET = Target("toychip", SPEC, _compile, costs=COSTS, price_fn=_price, options=ToyOptions, timing=TIMING,
                summary="a made-up chip that shows what a plug-in target needs")
