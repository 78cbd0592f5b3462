"""A compiled BNN on TULIP's PE array: the layer schedule, the local-memory check, and energy,
latency and area of TULIP and of the MAC baseline (:mod:`.design`).

Layers run one after another; a layer's neurons are dealt to the PEs in SIMD rounds
(``ceil(neurons / pes)`` rounds of one neuron per PE); each neuron takes ``ceil(n / L) + 1``
cycles.  Every PE keeps the ±1 weights and the threshold of each neuron it evaluates in its
local memory, for all layers at once.  A BNN processes every ±1 input, so the work does not
depend on activity: the price of a sample is its schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import ResourceLimitError, UnsupportedError
from ...runtime.program import Program
from .design import TULIP_40NM, TulipDesign, acc_bits, mac_neuron, mac_pe_area, tulip_neuron, tulip_pe_area

__all__ = ["BnnLayerShape", "bnn_layers", "Schedule", "schedule"]


@dataclass(frozen=True)
class BnnLayerShape:
    name: str
    neurons: int
    fan_in: int


@dataclass(frozen=True)
class Schedule:
    """Per layer: cycles; per sample: energy (J) and latency (s) of TULIP and of the MAC baseline;
    area of the PE array (FA units)."""

    layers: tuple[BnnLayerShape, ...]
    cycles: tuple[int, ...]
    energy: dict[str, float]
    energy_mac: dict[str, float]
    latency: float
    latency_mac: float
    area: float
    area_mac: float
    memory_bits: int

    @property
    def energy_ratio(self) -> float:
        """MAC baseline energy / TULIP energy."""
        return sum(self.energy_mac.values()) / sum(self.energy.values())


def bnn_layers(program: Program) -> tuple[BnnLayerShape, ...]:
    """The program's layers, refused unless it is a BNN as :mod:`spikec.compiler.frontends.bnn` lowers one."""
    shapes = []
    neurons = [p for p in program.populations if p.kernel != "input"]
    for k, pop in enumerate(neurons):
        unity = 1 << int(pop.config.get("decay_bits", 12)) if pop.kernel == "cuba_fixed" else None
        stateless = unity is not None and np.all(pop.params["du"] == unity) and np.all(pop.params["dv"] == unity)
        last = k == len(neurons) - 1
        if not stateless or pop.spiking == last:
            raise UnsupportedError(
                f"target tulip: population kernel {pop.kernel!r} is not a binary threshold layer", node=pop.name,
                parameter="kernel", limit="stateless integer threshold neurons, a non-spiking score layer last",
                fix="train a binary network (spikec.nn.bnn) and import it with spikec.compiler.frontends.bnn; "
                "spiking networks with memory run on xylo, fpga or loihi2")
        into = [j for j in program.projections if j.target == pop.name]
        if len(into) != 1 or into[0].kind != "dense" or not np.isin(into[0].weight, (-2, 0, 2)).all():
            raise UnsupportedError("target tulip: its input is not one dense projection of +-1 weights", node=pop.name,
                                   parameter="weight", limit="binary weights (stored as +-2 on {0, 1} spikes)",
                                   fix="import a BNN with spikec.compiler.frontends.bnn")
        shapes.append(BnnLayerShape(pop.name, pop.size, int(into[0].weight.shape[1])))
    return tuple(shapes)


def schedule(program: Program, design: TulipDesign = TULIP_40NM) -> Schedule:
    """The schedule of ``program`` on ``design`` (see the module docstring)."""
    layers = bnn_layers(program)
    pes = int(design.pes.value)
    widest = max((s.fan_in for s in layers), default=0)
    if widest > design.max_fan_in.value:
        raise UnsupportedError(f"target tulip: a neuron of fan-in {widest}", parameter="fan_in",
                               limit=f"{design.max_fan_in.value} ({design.max_fan_in.source})",
                               fix="split the layer")
    memory = sum(math.ceil(s.neurons / pes) * (s.fan_in + acc_bits(s.fan_in)) for s in layers)
    if memory > design.memory_bits.value:
        raise ResourceLimitError(
            f"target tulip: each PE needs {memory} bits of weights and thresholds", parameter="memory_bits",
            limit=f"{design.memory_bits.value} bits per PE ({design.memory_bits.source})",
            fix="use more PEs or a smaller network")
    e_fa, f = float(design.e_fa.value), float(design.clock_hz.value)
    cycles, energy, energy_mac = [], {}, {}
    for s in layers:
        t, m = tulip_neuron(s.fan_in, design), mac_neuron(s.fan_in, design)
        cycles.append(math.ceil(s.neurons / pes) * t.cycles)
        energy[s.name] = s.neurons * t.energy * e_fa
        energy_mac[s.name] = s.neurons * m.energy * e_fa
    mac_cycles = sum(math.ceil(s.neurons / pes) * mac_neuron(s.fan_in, design).cycles for s in layers)
    return Schedule(layers, tuple(cycles), energy, energy_mac, sum(cycles) / f, mac_cycles / f,
                    pes * tulip_pe_area(design), pes * mac_pe_area(design), memory)
