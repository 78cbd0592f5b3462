r"""Neuron populations, their equations, and the one discretization spikec uses.

Parameters follow NIR's continuous-time definitions.  spikec discretizes every model with
**forward Euler at the graph's time step** :math:`\Delta t`, written in decay form so that
frameworks that think in decays (snnTorch's ``beta``, Lava's ``du``/``dv``) map onto it
exactly.  For a population with input current :math:`x[t]` (the sum of all incoming edges
at step :math:`t`):

.. math::
    \alpha = 1 - \Delta t/\tau, \qquad g = R\,\Delta t/\tau, \qquad b = v_{leak}\,\Delta t/\tau

    v^-[t] = \alpha\, v[t-1] + g\, x[t] + b \quad\text{(evaluated left to right)}

    z[t] = \mathbb{1}[\,v^-[t] > v_{threshold}\,] \quad\text{(strictly greater)}

and the reset gives the state carried to the next step:

- ``value``: :math:`v[t] = v_{reset}` where :math:`z[t]=1` (NIR, Norse, Loihi, snnTorch "zero");
- ``subtract``: :math:`v[t] = v^-[t] - v_{threshold}\,z[t]` (Sinabs, Rockpool);
- ``subtract_next``: :math:`v[t] = v^-[t]`, and the threshold is subtracted at the next step
  after the leak, :math:`v^-[t+1] = \alpha v[t] + g x[t+1] + b - v_{threshold} z[t]`
  (snnTorch's default "subtract");
- ``none``: :math:`v[t] = v^-[t]`.

Current-based models first update the synaptic current with the input, then the membrane
with the *new* current (the order of snnTorch's ``Synaptic`` and of Lava's LIF):

.. math::
    I[t] = \alpha_{syn} I[t-1] + g_{in} x[t], \quad \alpha_{syn} = 1-\Delta t/\tau_{syn},
    \quad g_{in} = w_{in}\Delta t/\tau_{syn}

    v^-[t] = \alpha_{mem} v[t-1] + g_{mem} I[t] + b

Forward Euler needs :math:`\tau \ge \Delta t` (otherwise :math:`\alpha < 0` and the membrane
oscillates); graphs that break this are rejected.  State starts at zero.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..errors import GraphValidationError
from .node import (
    Node,
    Shape,
    check_finite,
    check_positive,
    check_same_shape,
    expect_shape,
    frozen_array,
)

__all__ = [
    "Reset",
    "Neuron",
    "LIF",
    "CubaLIF",
    "IF",
    "LI",
    "CubaLI",
    "Integrator",
    "Threshold",
    "make_population",
]


class Reset(str, Enum):
    """What happens to the membrane after a spike (see the module docstring)."""

    VALUE = "value"
    SUBTRACT = "subtract"
    SUBTRACT_NEXT = "subtract_next"
    NONE = "none"


@dataclass(frozen=True, eq=False)
class Neuron(Node):
    """A population of neurons; every array field holds one value per neuron."""

    spiking: ClassVar[bool] = True
    time_constants: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "reset":
                object.__setattr__(self, "reset", _as_reset(value))
            elif not isinstance(value, (bool, str, Enum)):
                object.__setattr__(self, f.name, frozen_array(value, np.float64, f.name))

    @property
    def shape(self) -> Shape:
        first = dataclasses.fields(self)[0].name
        return tuple(getattr(self, first).shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def per_neuron(self) -> dict[str, np.ndarray]:
        return dict(self.arrays())

    def check(self, name: str, dt: float) -> None:
        params = self.per_neuron()
        check_same_shape(name, params, self.shape)
        for param, arr in params.items():
            check_finite(name, param, arr)
        for param in self.time_constants:
            arr = params[param]
            check_positive(name, param, arr)
            if np.any(arr < dt * (1 - 1e-9)):
                raise GraphValidationError(
                    f"smallest value {arr.min():.6g} s is below the time step dt={dt:.6g} s; "
                    "forward Euler would make the decay negative",
                    node=name,
                    parameter=param,
                    limit=f"{param} >= dt",
                    fix="simulate with a smaller dt (graph dt or --dt), or check the time unit of the exporter",
                )

    def infer_shape(self, name: str, in_shape: Shape | None) -> Shape:
        expect_shape(name, in_shape, self.shape, f"a {self.kind} population of shape {self.shape}")
        return self.shape

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        """Discrete-time coefficients (float64) of the module docstring's update."""
        raise NotImplementedError


def _as_reset(value: Any) -> Reset:
    try:
        return Reset(value)
    except ValueError:
        raise GraphValidationError(
            f"unknown reset mode {value!r}",
            parameter="reset",
            fix=f"use one of {[r.value for r in Reset]}",
        ) from None


def _leaky(tau: np.ndarray, r: np.ndarray, v_leak: np.ndarray, dt: float) -> dict[str, np.ndarray]:
    k = dt / tau
    return {"alpha": 1.0 - k, "gain": r * k, "bias": v_leak * k}


def _current_based(n: "CubaLIF | CubaLI", dt: float) -> dict[str, np.ndarray]:
    k_syn = dt / n.tau_syn
    return {"alpha_syn": 1.0 - k_syn, "gain_syn": n.w_in * k_syn, **_leaky(n.tau_mem, n.r, n.v_leak, dt)}


@dataclass(frozen=True, eq=False)
class LIF(Neuron):
    r"""Leaky integrate-and-fire: :math:`\tau \dot v = (v_{leak} - v) + R I`, spike when
    :math:`v > v_{threshold}`, then reset."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    reset: Reset = Reset.VALUE

    time_constants: ClassVar[tuple[str, ...]] = ("tau",)

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return _leaky(self.tau, self.r, self.v_leak, dt)


@dataclass(frozen=True, eq=False)
class CubaLIF(Neuron):
    r"""Current-based LIF: :math:`\tau_{syn}\dot I = -I + w_{in} S`,
    :math:`\tau_{mem}\dot v = (v_{leak}-v) + R I`, spike and reset as :class:`LIF`."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    w_in: np.ndarray
    reset: Reset = Reset.VALUE

    time_constants: ClassVar[tuple[str, ...]] = ("tau_syn", "tau_mem")

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return _current_based(self, dt)


@dataclass(frozen=True, eq=False)
class IF(Neuron):
    r"""Integrate-and-fire: :math:`\dot v = R I`, so :math:`v^- = v + R\,\Delta t\, x`."""

    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    reset: Reset = Reset.VALUE

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return {"alpha": np.ones_like(self.r), "gain": self.r * dt, "bias": np.zeros_like(self.r)}


@dataclass(frozen=True, eq=False)
class LI(Neuron):
    r"""Leaky integrator (no spikes; outputs :math:`v`): :math:`\tau\dot v = (v_{leak}-v) + R I`."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray

    spiking: ClassVar[bool] = False
    time_constants: ClassVar[tuple[str, ...]] = ("tau",)

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return _leaky(self.tau, self.r, self.v_leak, dt)


@dataclass(frozen=True, eq=False)
class CubaLI(Neuron):
    r"""Current-based leaky integrator (no spikes; outputs :math:`v`)."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    w_in: np.ndarray

    spiking: ClassVar[bool] = False
    time_constants: ClassVar[tuple[str, ...]] = ("tau_syn", "tau_mem")

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return _current_based(self, dt)


@dataclass(frozen=True, eq=False)
class Integrator(Neuron):
    r"""Integrator (NIR ``I``; no spikes; outputs :math:`v`): :math:`\dot v = R I`."""

    r: np.ndarray

    spiking: ClassVar[bool] = False

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return {"alpha": np.ones_like(self.r), "gain": self.r * dt, "bias": np.zeros_like(self.r)}


@dataclass(frozen=True, eq=False)
class Threshold(Neuron):
    r"""Stateless firing function: :math:`z[t] = \mathbb{1}[x[t] > \theta]`."""

    threshold: np.ndarray

    def coefficients(self, dt: float) -> dict[str, np.ndarray]:
        return {}


_DEFAULTS: dict[str, float] = {"r": 1.0, "v_leak": 0.0, "v_reset": 0.0, "w_in": 1.0}

N = TypeVar("N", bound=Neuron)


def make_population(cls: type[N], shape: int | Shape, **params: Any) -> N:
    """Build a population of ``shape``, broadcasting *scalar* parameters to every neuron.

    Missing ``r``, ``v_leak``, ``v_reset`` and ``w_in`` default to 1, 0, 0 and 1.  Arrays must
    already have the population's shape: a wrong-shaped array is an error, never broadcast.
    """
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "reset":
            if "reset" in params:
                values["reset"] = params.pop("reset")
            continue
        if f.name in params:
            raw = frozen_array(params.pop(f.name), np.float64, f.name)
        elif f.name in _DEFAULTS:
            raw = np.asarray(_DEFAULTS[f.name])
        else:
            raise GraphValidationError(
                f"missing parameter for {cls.__name__}", parameter=f.name, fix=f"pass {f.name}=..."
            )
        if raw.ndim == 0:
            raw = np.full(shape, float(raw))
        elif raw.shape != shape:
            raise GraphValidationError(
                f"has shape {raw.shape}, population has shape {shape}",
                parameter=f.name,
                fix="pass a scalar or an array of the population's shape",
            )
        values[f.name] = raw
    if params:
        raise GraphValidationError(
            f"{cls.__name__} has no parameter(s) {sorted(params)}",
            parameter=sorted(params)[0],
            fix=f"valid parameters: {[f.name for f in dataclasses.fields(cls)]}",
        )
    return cls(**values)
