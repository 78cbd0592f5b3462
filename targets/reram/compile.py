"""Compile a graph for the ReRAM crossbar: the shared passes, then every projection onto tiles.

After the shared flow (quantize to ``log2(levels) + 1`` signed bits, map neurons onto cores of
``tile_cols`` columns), each projection becomes a ``crossbar`` projection whose weights are what
the devices hold: integer weights as differential conductance pairs, programmed with the device
model's spread (seeded), relaxed for ``read_time``, some devices stuck, and IR drop folded in as
each cell's effective conductance (crossbar.py).  The deviations are added to the integer
weights in weight units, so with every non-ideality off the weights are the integers themselves
and the fixed-point program is bit-exact with the reference simulator.

The periphery the engine emulates per step: a sign-magnitude DAC of ``dac_bits`` (1 bit for a
spiking source), an ADC of ``adc_bits`` per column whose full scale is ``adc_range`` x the
largest column sum one tile read can produce (1.0: never clips), and read noise.  In a
fixed-point program the ADC's LSB is rounded up to a power of two (a shift in the periphery).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...compiler.pipeline import Compiled
from ...errors import UnsupportedError
from ...ir.graph import Graph
from ...runtime.crossbar import column_groups
from ...runtime.program import Program, Projection
from ...runtime.synapses import expand
from ..options import Options, option
from ..pipeline import compile_for
from ..protocol import ONE_STEP_PER_HOP
from . import crossbar
from .devices import DEVICES, STUCK_ON_SHARE, device, program, stick
from .spec import RERAM_CHIP, reram_spec

__all__ = ["ReramOptions", "Devices", "compile_reram", "to_crossbar"]

_C = RERAM_CHIP


@dataclass(frozen=True)
class ReramOptions(Options):
    """The crossbar's co-design knobs, on top of the compiler's."""

    target: ClassVar[str] = "reram"

    weight_bits: int | None = option(None, type="int", unit="bits", low=2, high=9, source=_C.levels.source,
                                     help="signed weight width; the devices then have 2**(bits-1) levels (default 5)")
    device: str = option("wan2022", type="str", choices=tuple(DEVICES),
                         source="aihwkit 1.2.0 noise models (targets/reram/devices.py): Wan et al. 2022 ReRAM, IBM "
                                "CMO/HfOx (2 % or 0.2 % acceptance), PCM-like", help="programming-noise model")
    noise_scale: float = option(1.0, type="float", low=0.0, high=10.0, source="aihwkit noise_scale (1: as fitted)",
                                help="programming noise x this (0: devices hit their targets)")
    read_time: float = option(1.0, type="float", unit="s", low=1e-9, high=1e9,
                              source="aihwkit t_inference (wan2022 fits: 1, 86400, 172800 s)",
                              help="time between programming and reading (drift / relaxation)")
    read_noise: float = option(_C.read_noise.value, type="float", unit="x g_max", low=0.0, high=1.0,
                               source=_C.read_noise.source, help="sigma of one device read (0: none)")
    stuck_fraction: float = option(0.0, type="float", low=0.0, high=1.0,
                                   source="spikec what-if (0: a fully working array)",
                                   help="fraction of devices stuck at g_min or g_max")
    stuck_on_share: float = option(STUCK_ON_SHARE.value, type="float", low=0.0, high=1.0,
                                   source=STUCK_ON_SHARE.source, help="share of stuck devices stuck at g_max (SA1)")
    ir_drop: bool = option(False, type="bool", source="aihwkit IOParameters ir_drop = 0.0 (off) by default",
                           help="fold the exact IR-drop solve of every tile into its cells")
    wire_ohm: float = option(_C.wire_ohm.value, type="float", unit="Ohm", low=1e-6, high=1e3, source=_C.wire_ohm.source,
                             help="wire resistance between neighbouring cells (with --ir-drop)")
    adc_bits: int = option(_C.adc_bits.value, type="int", unit="bits", low=2, high=24, source=_C.adc_bits.source,
                           help="ADC resolution, signed")
    adc_range: float = option(1.0, type="float", low=1e-3, high=1.0,
                              source="spikec: fraction of the largest possible column sum (1: no clipping)",
                              help="ADC full scale as a fraction of the worst-case column sum")
    dac_bits: int = option(_C.dac_bits.value, type="int", unit="bits", low=1, high=16, source=_C.dac_bits.source,
                           help="DAC magnitude bits for graded inputs (spiking sources use 1)")
    cols_per_adc: int = option(_C.cols_per_adc.value, type="int", low=1, high=1024, source=_C.cols_per_adc.source,
                               help="columns sharing one ADC (conversions per ADC per tile read)")
    tile_rows: int = option(_C.tile_rows.value, type="int", low=1, high=4096, source=_C.tile_rows.source,
                            help="rows per tile")
    tile_cols: int = option(_C.tile_cols.value, type="int", low=1, high=4096, source=_C.tile_cols.source,
                            help="columns (weights) per tile")
    device_seed: int = option(0, type="int", low=0, high=2**63 - 1, source="spikec: every random draw is seeded",
                       help="seed of device programming, stuck cells and read noise")


@dataclass(frozen=True)
class Devices:
    """The device array one compile programs: its options, levels per device and conductance range (S)."""

    options: ReramOptions
    levels: int
    g_min: float
    g_max: float

    @property
    def dg(self) -> float:
        return (self.g_max - self.g_min) / (self.levels - 1)


def compile_reram(graph: Graph, options: ReramOptions, calibration: Any = None) -> Compiled:
    """``graph`` for the crossbar under ``options`` (module docstring)."""
    bits = options.weight_bits
    spec = reram_spec(weight_bits=bits, tile_cols=options.tile_cols)
    device(options.device).check_time(options.read_time)
    compiled = compile_for(graph, spec, options, target="reram", timing=ONE_STEP_PER_HOP, calibration=calibration)
    levels = 2 ** (spec.weight_bits.value - 1)
    program_ = to_crossbar(compiled.program, Devices(options, levels, _C.g_min, _C.g_max))
    return Compiled(compiled.graph, program_, compiled.records)


def to_crossbar(prog: Program, dev: Devices) -> Program:
    """``prog`` with every projection as a crossbar projection (module docstring)."""
    opts = dev.options
    projections, info = [], {"tiles": 0, "stuck_devices": 0, "devices": 0, "g_sum": 0.0, "levels": dev.levels,
                             "cols_per_adc": opts.cols_per_adc, "adc_bits": opts.adc_bits, "device": opts.device}
    for k, j in enumerate(prog.projections):
        src, dst = prog.population(j.source), prog.population(j.target)
        w, scale = _integer_weights(j, src.size, dst.size, dev.levels, prog.arithmetic)
        rng = np.random.default_rng([opts.device_seed, k])
        t = prog.index[j.target]
        own = prog.core_of[prog.offsets[t]: prog.offsets[t] + dst.size]
        groups = column_groups(own, opts.tile_cols, where=j.name)
        w_eff, g_sum, stuck = _programmed(w, groups.group, dev, rng)
        info["tiles"] += len(crossbar.row_blocks(src.size, opts.tile_rows)) * groups.n
        info["stuck_devices"] += stuck
        info["devices"] += 2 * w.size
        info["g_sum"] += g_sum
        projections.append(Projection(j.name, j.source, j.target, "crossbar", w_eff * scale, None, j.delay_base,
                                      geometry=_periphery(w_eff, scale, src.spiking, dev, prog.arithmetic)))
    info["g_mean"] = info.pop("g_sum") / max(info["devices"], 1)
    meta = {**prog.metadata, "reram": info}
    return dataclasses.replace(prog, projections=tuple(projections), metadata=meta)


def _integer_weights(j: Projection, n_src: int, n_dst: int, levels: int, arithmetic: str) -> tuple[np.ndarray, float]:
    """Dense integer weights (n_dst, n_src) within the devices' levels, and the value of one step
    (1 in fixed point; a float program's weights are scaled onto the levels)."""
    if j.delay is not None and np.any(j.delay):
        raise UnsupportedError("a crossbar has no per-synapse delays", node=j.name, parameter="delay",
                               fix="remove the delays, or compile for a target with delay lines (loihi2)")
    if j.kind == "dense":
        w = np.asarray(j.weight, np.float64)
    else:  # sparse or convolution: every synapse on its cell
        s = expand(j, n_src, n_dst)
        w = np.zeros((n_dst, n_src))
        np.add.at(w, (s.target, s.source), s.weight)
    if arithmetic == "fixed":
        return w.astype(np.int64), 1.0
    top = float(np.abs(w).max()) if w.size else 0.0
    scale = top / (levels - 1) if top > 0 else 1.0
    return np.round(w / scale).astype(np.int64), scale


def _programmed(w: np.ndarray, group: np.ndarray, dev: Devices,
                rng: np.random.Generator) -> tuple[np.ndarray, float, int]:
    """Weights as the devices hold them (weight units), the sum of device conductances and the
    count of stuck devices.  Deviations are added to ``w`` so that an ideal array returns ``w``."""
    opts = dev.options
    g_pos, g_neg = crossbar.pair(w, levels=dev.levels, g_min=dev.g_min, g_max=dev.g_max)
    model = device(opts.device)
    stuck = 0
    out = []
    for g in (g_pos, g_neg):
        g_t = g
        g = program(g, model, g_min=dev.g_min, g_max=dev.g_max, t=opts.read_time, scale=opts.noise_scale, rng=rng)
        if opts.stuck_fraction > 0:
            g, n = stick(g, opts.stuck_fraction, opts.stuck_on_share, g_min=dev.g_min, g_max=dev.g_max, rng=rng)
            stuck += n
        if opts.ir_drop:
            g = _with_ir_drop(g, group, opts)
        out.append((g, g - g_t))
    (gp, dp), (gn, dn) = out
    w_eff = w + (dp - dn) / dev.dg
    return w_eff, float(gp.sum() + gn.sum()), stuck


def _with_ir_drop(g: np.ndarray, group: np.ndarray, opts: ReramOptions) -> np.ndarray:
    """``g`` (n_dst, n_src) with each tile's cells replaced by their IR-drop effective conductance."""
    out = g.copy()
    for rows in crossbar.row_blocks(g.shape[1], opts.tile_rows):
        for c in range(int(group.max()) + 1 if group.size else 0):
            cols = np.flatnonzero(group == c)
            tile = g[cols][:, rows].T                     # (rows, cols): word lines x bit lines
            eff = crossbar.effective_conductance(tile, _C.v_read.value, opts.wire_ohm)
            out[np.ix_(cols, np.arange(rows.start, rows.stop))] = eff.T
    return out


def _periphery(w_eff: np.ndarray, scale: float, spiking: bool, dev: Devices, arithmetic: str) -> dict[str, Any]:
    """The crossbar settings of one projection (runtime/crossbar.py)."""
    opts = dev.options
    fixed = arithmetic == "fixed"
    in_bits = 1 if spiking else opts.dac_bits
    in_lsb = 1.0 if fixed or spiking else 1.0 / (2**opts.dac_bits - 1)   # float graded inputs: [0, 1] full scale
    worst = max((float(np.abs(w_eff[:, rows]).sum(axis=1).max()) for rows in
                 crossbar.row_blocks(w_eff.shape[1], opts.tile_rows)), default=0.0) * scale
    qmax = 2 ** (opts.adc_bits - 1) - 1
    lsb = max(worst * opts.adc_range / qmax, np.finfo(float).tiny)
    if fixed:
        lsb = float(2 ** max(0, math.ceil(math.log2(lsb)))) if lsb > 1 else 1.0
    sigma = opts.read_noise * dev.g_max / dev.dg * scale
    return {"tile_rows": opts.tile_rows, "tile_cols": opts.tile_cols, "in_bits": in_bits, "in_lsb": in_lsb,
            "adc_bits": opts.adc_bits, "adc_lsb": lsb, "read_sigma": sigma, "seed": int(opts.device_seed)}
