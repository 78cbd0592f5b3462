"""Compile a graph for Loihi 2: the shared passes under :data:`LOIHI2_SPEC`, then the chip's
timing, then a check that Lava's Loihi processes can express every population and projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...compiler.passes.base import Change, PassRecord
from ...compiler.pipeline import Compiled
from ...compiler.timing import pipeline_depth
from ...ir.graph import Graph
from ..options import Options, option
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP
from .encode import encode
from .spec import LOIHI2_SPEC

__all__ = ["Loihi2Options", "compile_loihi2"]


@dataclass(frozen=True)
class Loihi2Options(Options):
    target: ClassVar[str] = "loihi2"

    weight_bits: int | None = option(None, type="int", unit="bits", low=1, high=LOIHI2_SPEC.value("weight_bits"),
                                     source=LOIHI2_SPEC.weight_bits.source,
                                     help="signed weight width to quantize to (default: 8)")
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
    compiled = compile_for(graph, LOIHI2_SPEC, options, target="loihi2", timing=ONE_STEP_PER_HOP,
                           calibration=calibration)
    program = compiled.program
    net = encode(program)
    changes = tuple(
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
    record = PassRecord("loihi2", changes, {
        "timing": "every projection delay_base=1 (one step per synaptic hop)",
        "lif_processes": len(net.lifs), "connection_processes": len(net.connections),
        "pipeline_depth": pipeline_depth(program),
    })
    return Compiled(compiled.graph, program, compiled.records + (record,))
