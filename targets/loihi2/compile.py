"""Compile a graph for Loihi 2: the shared passes under :data:`LOIHI2_SPEC`, then the chip's
timing, then a check that Lava's Loihi processes can express every population and projection."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ...compiler.passes.base import Change, PassRecord
from ...compiler.pipeline import Compiled
from ...errors import UnsupportedError
from ...ir.graph import Graph
from ...hardware import HardwareSpec
from ..target import compile_timed
from .encode import encode, pipeline_depth
from .spec import LOIHI2_SPEC

__all__ = ["compile_loihi2"]


def compile_loihi2(
    graph: Graph,
    *,
    weight_bits: int | None = None,
    calibration: np.ndarray | Mapping[str, np.ndarray] | None = None,
    spec: HardwareSpec = LOIHI2_SPEC,
    arithmetic: str = "fixed",
    per_channel: bool = False,
) -> Compiled:
    """``graph`` compiled for Loihi 2: quantized per layer to the spec's widths (Lava's fixed-point
    LIF arithmetic), mapped onto cores, every synaptic hop taking one step.  The program runs on
    the C engine (the emulator) and, through :func:`~.backend.run_lava`, on Lava, bit for bit alike."""
    if arithmetic != "fixed":
        raise UnsupportedError(f"arithmetic={arithmetic!r}", parameter="arithmetic", limit="fixed (Loihi 2 is integer)",
                               fix="compile for loihi2 in fixed point, or use another target for float")
    if per_channel:
        raise UnsupportedError("per-channel scales become per-neuron thresholds, but Lava's LIF has one vth",
                               parameter="per_channel", fix="quantize per layer for Loihi 2")
    compiled = compile_timed(graph, spec, target="loihi2", arithmetic="fixed", weight_bits=weight_bits,
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
