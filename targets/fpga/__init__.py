"""spikec.targets.fpga: a parametric synchronous SNN accelerator on an FPGA — PEs that
time-multiplex neurons over block-RAM weights — with cycles per step from the engine's
per-PE counters, a LUT/FF/BRAM/DSP estimate, and power = static + activity x energy per
operation; presets of published designs (Spiker+, FireFly)."""

from __future__ import annotations

from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ..protocol import ONE_STEP_PER_HOP, Target
from .compile import FPGA_SPEC, FpgaOptions, compile_fpga, design_of, fpga_spec
from .design import FIREFLY, GENERIC, PRESETS, SPIKER_PLUS_MNIST, FpgaDesign, preset
from .model import Resources, estimate_fpga, resources, step_cycles


def _price(counters: Counters, program: Program) -> Estimate:
    return estimate_fpga(counters, program, design_of(program.metadata.get("options", {})))


def _notes(counters: Counters, program: Program) -> list[str]:
    design = design_of(program.metadata.get("options", {}))
    cyc = step_cycles(counters, program, design)
    return [f"{design.name}: {cyc.mean():,.0f} cycles per step (busiest {cyc.max():,.0f}) at "
            f"{design.clock_hz.value / 1e6:g} MHz; peak {design.peak_ops / 1e12:.3g} TOP/s",
            "resources: " + resources(program, design).summary()]


class _Costs:
    """The constants the price uses (the generic design's), for ``spikec targets``."""

    @staticmethod
    def constants() -> dict:
        return GENERIC.constants()


TARGET = Target("fpga", FPGA_SPEC, compile_fpga, costs=_Costs(), price_fn=_price, options=FpgaOptions,
                timing=ONE_STEP_PER_HOP, notes_fn=_notes,
                summary="parametric FPGA SNN accelerator (PEs x BRAM); presets: Spiker+, FireFly")

__all__ = ["TARGET", "FPGA_SPEC", "FpgaOptions", "FpgaDesign", "GENERIC", "SPIKER_PLUS_MNIST", "FIREFLY", "PRESETS",
           "preset", "compile_fpga", "design_of", "fpga_spec", "Resources", "estimate_fpga", "resources",
           "step_cycles"]
