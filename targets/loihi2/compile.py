"""Compile a graph for Loihi 2: the shared passes under :data:`LOIHI2_SPEC`, the biases Lava's LIF
cannot hold moved onto an always-on neuron, the chip's timing, then a check that Lava's Loihi
processes can express every population and projection.

**Biases into a decaying current.**  A projection bias is added to the synaptic current ``u``
every step (``input_bias``), but Lava's LIF has its bias on the membrane ``v``; the two agree
only when ``u`` does not outlive the step (``du = 4096``), where :mod:`.encode` moves the bias
into ``v``.  Elsewhere the bias becomes what it is, a constant input from an always-on neuron
(:mod:`spikec.targets.always_on`, which every target shares for relays on recurrent loops),
through synapses whose weights are the bias split into 7-bit digits, each its own Lava
connection with a weight exponent, where it does not fit 8 bits.  Where the needed delay exceeds
the chip's 63 steps the compile is refused, naming the error of the closest encoding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...compiler.mapping import map_program
from ...compiler.passes.base import Change, PassRecord
from ...compiler.pipeline import Compiled, compile_graph
from ...compiler.timing import pipeline_depth
from ...ir.graph import Graph
from ...runtime.program import Population, Program
from ..always_on import ALWAYS_ON, LoweredBiases, lower_biases
from ..options import Options, option, weight_bits_option
from ..protocol import ONE_STEP_PER_HOP
from .encode import DECAY_BITS, MAX_DELAY, encode
from .spec import LOIHI2_SPEC

__all__ = ["Loihi2Options", "compile_loihi2", "ALWAYS_ON"]

_DIGIT_BITS = 7               # bias digits fit a mixed-sign Lava weight (7 bits + sign)


@dataclass(frozen=True)
class Loihi2Options(Options):
    target: ClassVar[str] = "loihi2"

    weight_bits: int | None = weight_bits_option(LOIHI2_SPEC.weight_bits)
    per_channel: bool = option(False, type="bool", choices=(False,),
                               source="Lava's LIF has one vth per process (lava-nc 0.10 PyLifModelBitAcc)",
                               help="per-channel scales become per-neuron thresholds; quantize per layer for Loihi 2")
    arithmetic: str = option("fixed", type="str", choices=("fixed",), source="Loihi 2 neurons are integer (Lava "
                             "fixed_pt models)", help="Loihi 2 is integer; use another target to keep float neurons")


def compile_loihi2(graph: Graph, options: Options | None = None, calibration: Any = None) -> Compiled:
    """``graph`` compiled for Loihi 2: quantized per layer to the spec's widths (Lava's fixed-point
    LIF arithmetic), mapped onto cores, every synaptic hop taking one step.  The program runs on
    the C engine (the emulator) and, through :func:`~.backend.run_lava`, on Lava, bit for bit alike."""
    options = options if options is not None else Loihi2Options()
    compiled = compile_graph(graph, LOIHI2_SPEC, arithmetic=options.arithmetic, weight_bits=options.weight_bits,
                             per_channel=options.per_channel, calibration=calibration, passes=options.passes)
    records = list(compiled.records)
    lowered = lower_biases(compiled.program, steps_per_hop=ONE_STEP_PER_HOP.steps_per_hop, split=_digit_pieces,
                           max_delay=MAX_DELAY, decaying=_decaying_bias)
    program = lowered.program
    if lowered.changed and any(r.name == "map" for r in records):
        mapped = map_program(program, LOIHI2_SPEC)     # the populations changed: map them again
        program = mapped.program
        records = [mapped.record if r.name == "map" else r for r in records]
    depth = pipeline_depth(program, lowered.source)
    program = dataclasses.replace(program, metadata={**program.metadata, "target": "loihi2",
                                                     "options": options.as_dict(), "pipeline_depth": depth})
    records.append(_record(program, lowered, depth))
    return Compiled(compiled.graph, program, tuple(records))


def _record(program: Program, lowered: LoweredBiases, depth: int) -> PassRecord:
    net = encode(program)
    source, shifts = lowered.source, lowered.shifts
    changes = tuple(
        Change(b.target, f"{b.origin}: {int(np.count_nonzero(b.value))} synapse(s) "
                         f"from the always-on neuron '{source}', from graph step {b.start} (chip step "
                         f"{b.start + shifts[b.target]})", {"bias_synapses": int(np.count_nonzero(b.value))})
        for b in lowered.biases
    ) + tuple(Change(name, what, {}) for name, what in lowered.notes()) + tuple(
        Change(lif.name, f"LIF du={lif.du} dv={lif.dv} vth={lif.vth} (x 2**6), bias exponents "
                         f"{int(lif.bias_exp.min())}..{int(lif.bias_exp.max())}",
               {"du": lif.du, "dv": lif.dv, "vth": lif.vth})
        for lif in net.lifs
    ) + tuple(
        Change(c.name, f"{'Delay' if c.delay is not None else ''}{'Dense' if c.dense else 'Sparse'} "
                       f"{c.sign_mode}, weight_exp {c.weight_exp}, {c.src.size:,} synapses",
               {"sign_mode": c.sign_mode, "weight_exp": c.weight_exp, "synapses": int(c.src.size)})
        for c in net.connections
    )
    return PassRecord("loihi2", changes, {
        "timing": "every projection delay_base=1 (one step per synaptic hop)",
        "lif_processes": len(net.lifs), "connection_processes": len(net.connections),
        "always_on_neurons": int(source is not None), "pipeline_depth": depth,
    })


# --- biases that Lava's LIF cannot hold ------------------------------------------------------------


def _decaying_bias(pop: Population) -> bool:
    """A projection bias into a current that outlives the step (the LIF's own bias cannot hold it)."""
    return (pop.kernel == "cuba_fixed" and "input_bias" in pop.params and bool(np.any(pop.params["input_bias"]))
            and bool(np.any(pop.params["du"] != 1 << DECAY_BITS)))


def _digit_pieces(value: np.ndarray) -> list[tuple[str, np.ndarray]]:
    return [(f"<<{shift}" if shift else "", digit) for shift, digit in _digits(value.astype(np.int64))]


def _digits(value: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``value`` as signed base-2**7 digits ``(shift, digit << shift)``: each is a multiple of
    ``2**shift`` whose quotient fits 7 bits and a sign (one Lava weight), non-zero digits only."""
    sign, mag = np.sign(value), np.abs(value)
    out = []
    shift = 0
    while np.any(mag >> shift):
        digit = sign * (((mag >> shift) & ((1 << _DIGIT_BITS) - 1)) << shift)
        if np.any(digit):
            out.append((shift, digit))
        shift += _DIGIT_BITS
    return out
