r"""Device models of resistive memory: programming noise, drift, read noise, stuck devices.

Each model ports a *published* fit, with its coefficients as :class:`~spikec.hardware.Sourced`
data (aihwkit 1.2.0, MIT, ``src/aihwkit/inference/noise/{reram,pcm}.py``; aihwkit itself does
not install on this Python, see the reference notes §G.2).  Conductances are in siemens.

- ``wan2022``: ReRAM of Wan et al., "A compute-in-memory chip based on resistive random-access
  memory", Nature 608, 504 (2022), as fitted by aihwkit's ``ReRamWan2022NoiseModel``: the
  spread around the target is Gaussian with a 4th-order polynomial in :math:`x = g/g_{max}`,

  .. math:: \sigma(g) = \frac{g_{max}}{40\,\mu S} \sum_{i=0}^{4} c_i(t)\, x^i \quad [\mu S]

  fitted at :math:`g_{max,ref} = 40\,\mu S` for three read times *t* (1 s, 1 day, 2 days): the
  later tables *are* the drift model (ReRAM relaxes rather than drifts; aihwkit redraws around
  the target with the wider spread).  Conductances are clamped at 0.
- ``cmo``: CMO/HfOx ReRAM of IBM Research Zurich (aihwkit ``ReRamCMONoiseModel``, Falcone et al.,
  in review): :math:`\sigma = c_0 + c_1 g` with *g* in µS, for a write-verify acceptance range of
  0.2 % or 2 %; relaxation after *t* s shifts the mean by :math:`-0.0890 \ln t` µS and adds a
  spread of :math:`0.0420 \ln t + 0.4118` µS; then clamped to [g_min, g_max].
- ``pcm_like``: aihwkit's ``PCMLikeNoiseModel`` programming noise (Nandakumar et al. 2020):
  :math:`\sigma = c_0 + c_1 x + c_2 x^2` µS at :math:`g_{max,ref} = 25\,\mu S`.  Its drift
  (:math:`\nu(g)`) is not ported (its coefficients are not in the reference notes).

Stuck devices: a fraction of cells is stuck at g_min (SA0, off) or g_max (SA1, on); the default
share of SA1 among stuck cells is Chen et al.'s measured 9.04 % SA1 vs 1.75 % SA0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...errors import UnsupportedError
from ...hardware import Sourced

__all__ = ["DeviceModel", "DEVICES", "device", "program", "stick", "STUCK_ON_SHARE", "programmed_weights"]

_US = 1e-6
_AIHWKIT_RERAM = "aihwkit 1.2.0 src/aihwkit/inference/noise/reram.py"
_AIHWKIT_PCM = "aihwkit 1.2.0 src/aihwkit/inference/noise/pcm.py"


@dataclass(frozen=True)
class DeviceModel:
    """A device's programmed-state spread.  ``sigma(g, g_max, t)`` in S; ``shift(t)`` the mean
    relaxation in S after ``t`` seconds; ``times`` the read times the fit covers (None: any)."""

    name: str
    source: str                                             # the published table, as quoted
    sigma_fn: Callable[[np.ndarray, float, float], np.ndarray]
    shift_fn: Callable[[float], float]
    times: tuple[float, ...] | None
    g_floor: str                                            # "zero" or "g_min": where the spread is clamped
    g_max_ref: float | None                                 # S, the g_max the fit was made at (None: absolute)

    def sigma(self, g: np.ndarray, g_max: float, t: float = 1.0) -> np.ndarray:
        """Standard deviation (S) of a device programmed to ``g`` (S), read ``t`` s later."""
        self.check_time(t)
        return np.maximum(self.sigma_fn(np.asarray(g, np.float64), g_max, t), 0.0)

    def shift(self, t: float) -> float:
        """Mean change (S) of every device ``t`` s after programming."""
        self.check_time(t)
        return self.shift_fn(t)

    def check_time(self, t: float) -> None:
        if self.times is not None and t not in self.times:
            raise UnsupportedError(f"target reram, device {self.name} has fits for read times {self.times} s only, "
                                   f"not {t}",
                                   parameter="read_time", limit=", ".join(f"{v:g}" for v in self.times),
                                   fix=f"give --read-time one of {', '.join(f'{v:g}' for v in self.times)}")
        if not t > 0:
            raise UnsupportedError(f"read time {t} s", parameter="read_time", limit="> 0 s")


# Wan 2022: coefficients c0..c4 (µS) per read time (s), lowest order first.
WAN2022_SOURCE = (f"{_AIHWKIT_RERAM}, ReRamWan2022NoiseModel coeff_dic (reversed to c0..c4, µS, fit at "
                  "g_max = 40 µS): 1 s [0.348, 16.030, -43.853, 45.393, -16.815]; 1 day [0.701, 22.086, "
                  "-50.773, 47.095, -16.458]; 2 days [0.782, 20.274, -43.507, 37.062, -11.934]")
_WAN2022 = {
    1.0: (0.348, 16.030, -43.853, 45.393, -16.815),
    86400.0: (0.701, 22.086, -50.773, 47.095, -16.458),
    172800.0: (0.782, 20.274, -43.507, 37.062, -11.934),
}
CMO_SOURCE = (f"{_AIHWKIT_RERAM}, ReRamCMONoiseModel: sigma = c0 + c1 g (µS), acceptance 0.2 %: "
              "c0 = 0.00081107, c1 = 0.00106879; 2 %: c0 = 0.0112185391, c1 = 0.01129027418; decay mean "
              "-0.08900206 ln t, std 0.04201137 ln t + 0.41183342 (µS)")
_CMO = {0.2: (0.00081107, 0.00106879), 2.0: (0.0112185391, 0.01129027418)}
_CMO_DECAY_MEAN, _CMO_DECAY_STD = -0.08900206, (0.04201137, 0.41183342)
PCM_SOURCE = (f"{_AIHWKIT_PCM}, PCMLikeNoiseModel prog_coeff [0.26348, 1.9650, -1.1731] µS at "
              "g_max = 25 µS (Nandakumar et al. 2020)")
_PCM = (0.26348, 1.9650, -1.1731)
STUCK_ON_SHARE = Sourced(9.04 / (9.04 + 1.75), "C.-Y. Chen et al., 'RRAM defect modeling and failure analysis "
                                               "based on March test and a novel squeeze-search scheme', IEEE Trans. "
                                               "Computers 64(1), 2015: 9.04 % stuck-at-1 vs 1.75 % stuck-at-0 cells")


def _poly(coeffs: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for c in coeffs[::-1]:   # Horner
        out = out * x + c
    return out


def _wan_sigma(g: np.ndarray, g_max: float, t: float) -> np.ndarray:
    return _poly(_WAN2022[t], g / g_max) * _US * (g_max / (40 * _US))


def _pcm_sigma(g: np.ndarray, g_max: float, t: float) -> np.ndarray:
    return _poly(_PCM, g / g_max) * _US * (g_max / (25 * _US))


def _cmo(acceptance: float) -> DeviceModel:
    c0, c1 = _CMO[acceptance]

    def sigma(g: np.ndarray, g_max: float, t: float) -> np.ndarray:
        prog = (c0 + c1 * (g / _US)) * _US
        if t <= 1.0:
            return prog
        relax = (_CMO_DECAY_STD[0] * np.log(t) + _CMO_DECAY_STD[1]) * _US
        return np.sqrt(prog**2 + relax**2)   # independent Gaussians add in variance

    return DeviceModel(f"cmo{acceptance:g}", CMO_SOURCE, sigma,
                       lambda t: _CMO_DECAY_MEAN * np.log(t) * _US if t > 1.0 else 0.0, None, "g_min", None)


DEVICES: dict[str, DeviceModel] = {
    "wan2022": DeviceModel("wan2022", WAN2022_SOURCE, _wan_sigma, lambda t: 0.0, tuple(_WAN2022), "zero", 40 * _US),
    "cmo": _cmo(2.0),
    "cmo0.2": _cmo(0.2),
    "pcm_like": DeviceModel("pcm_like", PCM_SOURCE, _pcm_sigma, lambda t: 0.0, None, "zero", 25 * _US),
}


def device(name: str) -> DeviceModel:
    """The device model called ``name`` (one of :data:`DEVICES`)."""
    if name not in DEVICES:
        raise UnsupportedError(f"device model {name!r}", parameter="device", fix=f"use one of {sorted(DEVICES)}")
    return DEVICES[name]


def program(g_target: np.ndarray, model: DeviceModel, *, g_min: float, g_max: float, t: float, scale: float,
            rng: np.random.Generator) -> np.ndarray:
    """Conductances as programmed and read ``t`` s later: target + mean shift + Gaussian spread
    (``scale`` x the model's sigma), clamped as the model says (at 0, or into [g_min, g_max])."""
    g = np.asarray(g_target, np.float64)
    out = g + model.shift(t) + scale * model.sigma(g, g_max, t) * rng.standard_normal(g.shape)
    return np.clip(out, g_min, g_max) if model.g_floor == "g_min" else np.maximum(out, 0.0)


def stick(g: np.ndarray, fraction: float, on_share: float, *, g_min: float, g_max: float,
          rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """``g`` with a ``fraction`` of devices stuck: ``on_share`` of them at g_max, the rest at g_min.
    Returns the conductances and the number of stuck devices."""
    stuck = rng.random(g.shape) < fraction
    on = rng.random(g.shape) < on_share
    out = np.where(stuck, np.where(on, g_max, g_min), g)
    return out, int(stuck.sum())


def programmed_weights(levels_pos: np.ndarray, levels_neg: np.ndarray, *, g_min: float, g_max: float,
                       n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Target conductances (g+, g-) of integer level arrays (0 .. n_levels - 1)."""
    step = (g_max - g_min) / (n_levels - 1)
    return g_min + levels_pos * step, g_min + levels_neg * step
