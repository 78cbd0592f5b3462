"""spikec.targets.reram: a ReRAM crossbar — weights as differential conductance pairs on
NeuroSim-style 128 x 128 tiles, programmed with a published device spread, read through DACs and
shared ADCs (the engine's ``crossbar`` projection kernel), digital LIF neurons in the periphery.

Zero-shot mode: :func:`device_sampler` (the target's ``weight_sampler``) gives the weights the
devices' own programming stochasticity draws, for reservoirs (:mod:`spikec.lsm`)."""

from __future__ import annotations

import numpy as np

from ...errors import UnsupportedError
from ...runtime.cost import Estimate
from ...runtime.counters import Counters
from ...runtime.program import Program
from ..options import Options
from ..protocol import ONE_STEP_PER_HOP, Target, WeightSampler
from .compile import ReramOptions, compile_reram
from .cost import RERAM_COSTS, ReramCosts, estimate_reram, tile_read_time
from .devices import DEVICES, device, program
from .spec import RERAM_CHIP, ReramChip, reram_spec

RERAM_SPEC = reram_spec()
# Both devices of a pair get the same SET pulse toward the middle of the range; the weight is
# what their stochastic switching leaves between them.
SAMPLE_LEVEL = 0.5


def device_sampler(options: Options) -> WeightSampler:
    """Zero-shot weights: each weight is ``g+ - g-`` (siemens) of a pair of devices both
    programmed toward ``SAMPLE_LEVEL * g_max`` with the options' device model (its programmed-state
    spread at ``read_time``, times ``noise_scale``), so the distribution is that model's, symmetric
    about 0 with std ~ sqrt(2) sigma(g).  Lin et al., Nature Computational Science 2025 (arXiv
    2307.00771), draw their LSM's weights from resistive-switching stochasticity in the same way;
    their measured distribution is not in the reference notes, so the published sigma(g) fits
    stand in for it."""
    opts = options if isinstance(options, ReramOptions) else ReramOptions()
    model = device(opts.device)
    g_min, g_max = RERAM_CHIP.g_min, RERAM_CHIP.g_max
    target = g_min + SAMPLE_LEVEL * (g_max - g_min)
    if opts.noise_scale == 0:
        raise UnsupportedError("target reram: with noise_scale 0 the devices draw no randomness (every weight is 0)",
                               parameter="noise_scale", limit="> 0", fix="leave noise_scale at 1 (the published fit)")
    scale = opts.noise_scale

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        g = np.full((2, int(n)), target)
        pos, neg = program(g, model, g_min=g_min, g_max=g_max, t=opts.read_time, scale=scale, rng=rng)
        return pos - neg

    return sample


def _price(counters: Counters, program_: Program) -> Estimate:
    return estimate_reram(counters, program_)


def _notes(counters: Counters, program_: Program) -> list[str]:
    info = program_.metadata.get("reram", {})
    clips = counters.total("clips")
    adc = counters.total("adc")
    t_read = tile_read_time(RERAM_COSTS, int(info.get("cols_per_adc", RERAM_CHIP.cols_per_adc.value)))
    lines = [f"{info.get('tiles', '?')} tiles of {RERAM_CHIP.tile_rows.value}x{RERAM_CHIP.tile_cols.value}, "
             f"{info.get('levels', '?')} levels per device ({info.get('device', '?')}); "
             f"{adc} ADC conversions; one tile read (an MVM per input bit) {t_read * 1e9:.1f} ns"]
    if clips:
        lines.append(f"{clips} ADC/DAC conversions clipped at full scale ({clips / max(adc, 1):.2%} of conversions): "
                     "raise --adc-range or --adc-bits")
    if info.get("stuck_devices"):
        lines.append(f"{info['stuck_devices']} of {info['devices']} devices stuck")
    return lines


TARGET = Target("reram", RERAM_SPEC, compile_reram, costs=RERAM_COSTS, price_fn=_price, options=ReramOptions,
                timing=ONE_STEP_PER_HOP, notes_fn=_notes, weight_sampler=device_sampler,
                summary="ReRAM crossbar: 128x128 tiles of differential pairs, DAC/ADC periphery, device noise")

__all__ = ["TARGET", "RERAM_SPEC", "RERAM_CHIP", "RERAM_COSTS", "ReramChip", "ReramCosts", "ReramOptions",
           "compile_reram", "estimate_reram", "device_sampler", "reram_spec", "DEVICES"]
