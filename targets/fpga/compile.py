"""Compile for the FPGA accelerator: the shared passes under a spec derived from the chosen
design (a preset, with what-if overrides), one engine core per PE."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from ...compiler.pipeline import Compiled
from ...errors import ResourceLimitError
from ...hardware import HardwareSpec, Sourced
from ...ir.graph import Graph
from ..options import Options, option, weight_bits_option
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP
from .design import GENERIC, PRESETS, FpgaDesign, preset
from .model import pe_loads

__all__ = ["FpgaOptions", "compile_fpga", "design_of", "fpga_spec", "FPGA_SPEC"]

_KNOBS = ("clock_hz", "pes", "neurons_per_pe", "synapse_lanes")


@dataclass(frozen=True)
class FpgaOptions(Options):
    """The design to model (a preset) and what-if overrides of its main knobs."""

    target: ClassVar[str] = "fpga"

    weight_bits: int | None = weight_bits_option(Sourced(16, "[G] spikec's widest FPGA weight (BRAM word width)"))
    preset: str = option("generic", type="str", choices=tuple(PRESETS), source="targets/fpga/design.py presets",
                         help="which published design's parameters to use")
    clock_mhz: float | None = option(None, type="float", unit="MHz", low=1.0, high=1000.0,
                                     source="FPGA fabric clocks: 100 MHz (Spiker+) to 300-600 MHz (FireFly) [P]",
                                     help="fabric clock (default: the preset's)", none_means="preset's")
    pes: int | None = option(None, type="int", unit="PEs", low=1, high=4096, source="[G] what-if range",
                             help="processing elements (default: the preset's)", none_means="preset's")
    neurons_per_pe: int | None = option(None, type="int", unit="neurons", low=1, high=65536,
                                        source="[G] what-if range (BRAM-bound)",
                                        help="neurons one PE time-multiplexes (default: the preset's)",
                                        none_means="preset's")
    synapse_lanes: int | None = option(None, type="int", unit="ops/cycle", low=1, high=1024,
                                       source="[G] what-if range", none_means="preset's",
                                       help="synaptic ops (or scanned inputs) per PE per cycle (default: the preset's)")


def design_of(options: Options | Mapping[str, Any]) -> FpgaDesign:
    """The design a compile used: its preset with the options' overrides."""
    values = options.as_dict() if isinstance(options, Options) else dict(options)
    design = preset(values.get("preset") or GENERIC_NAME)
    changes = {k: values[k] for k in ("pes", "neurons_per_pe", "synapse_lanes") if values.get(k) is not None}
    if values.get("clock_mhz") is not None:
        changes["clock_hz"] = float(values["clock_mhz"]) * 1e6
    return design.with_(**changes) if changes else design


GENERIC_NAME = next(k for k, v in PRESETS.items() if v is GENERIC)


def fpga_spec(design: FpgaDesign) -> HardwareSpec:
    """The passes' view of a design: PEs on a grid of cores, its number formats."""
    pes = int(design.pes.value)
    mx = max(d for d in range(1, int(math.isqrt(pes)) + 1) if pes % d == 0)
    grid = Sourced(mx, f"PE grid {mx} x {pes // mx} of {design.pes.source}")
    return HardwareSpec(
        name=f"FPGA: {design.name}", neurons_per_core=design.neurons_per_pe, weight_bits=design.weight_bits,
        state_bits=design.state_bits, decay_bits=Sourced(12, "[G] 12-bit decay multipliers"),
        max_delay=Sourced(0, "[G] no synaptic delay buffers in the modelled designs"),
        mesh_x=grid, mesh_y=Sourced(pes // mx, grid.source),
        chips=Sourced(None, "the input streams in from the host: its cores are not PEs (compile_fpga counts PEs)"),
        u_overflow="saturate", rounding="floor")


FPGA_SPEC = fpga_spec(GENERIC)


def compile_fpga(graph: Graph, options: Options, calibration: Any = None) -> Compiled:
    """``graph`` on the design the options name; refused when its neurons need more PEs than the
    design has."""
    design = design_of(options)
    compiled = compile_for(graph, fpga_spec(design), options, target="fpga", timing=ONE_STEP_PER_HOP,
                           calibration=calibration)
    used = int(pe_loads(compiled.program, design).pes.sum())
    if used > int(design.pes.value):
        raise ResourceLimitError(f"the network's neurons need {used} PEs of {design.neurons_per_pe.value} neurons; "
                                 f"{design.name} has {design.pes.value}", parameter="pes",
                                 limit=f"{design.pes.value} ({design.pes.source})",
                                 fix="give --pes or --neurons-per-pe large enough, or shrink the network")
    return compiled
