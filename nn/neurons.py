"""Trainable spiking populations whose forward pass is the IR's reference update, op for op.

Calling convention: a module takes a whole sequence ``(batch, time, *shape)`` and returns its
spikes ``(batch, time, *shape)``; the state (membrane, current, last spike) starts at zero on
every call.  The discrete-time coefficients come from the IR node itself
(``module.neuron().coefficients(dt)``), so the module and :func:`spikec.ir.simulate` evaluate
the same numbers in the same order (``v = alpha*v + gain*x + bias``, spike iff ``v > thr``,
then the reset; ``reset="value"`` resets to 0) and ``from_torch`` reproduces the spikes exactly.

Surrogate gradient: the forward pass is the Heaviside step; the backward pass uses the
fast-sigmoid ``1/(1+slope|u|)^2`` (default) or arctan derivative of ``u = BN(v) - thr``.  The
reset uses the detached spike (as snnTorch), so no gradient flows through the reset.

Membrane batch-norm (``mpbn=True``, Guo et al., ICCV 2023): the firing function sees
``BN(v) = gamma*(v - mean)/sqrt(var + eps) + beta`` per channel (first axis of ``shape``),
while the membrane itself is not changed.  Training: ``mean``/``var`` are the statistics of
the current time step's membrane over (batch, spatial) positions, and the running statistics
are updated (momentum 0.1) once per time step.  Eval and import: the running statistics, i.e.
:class:`spikec.ir.MembraneBatchNorm`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import ir
from ..errors import GraphValidationError

__all__ = ["FastSigmoid", "ArcTan", "spike", "LIF", "CubaLIF"]


class _Heaviside(torch.autograd.Function):
    """Heaviside forward (``x > 0``, the IR's strict threshold); subclasses give the backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, slope: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x > 0).to(x.dtype)


class FastSigmoid(_Heaviside):
    """Heaviside forward (``x > 0``), fast-sigmoid derivative ``1/(1+slope|x|)^2`` backward."""

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * x.abs()) ** 2, None


class ArcTan(_Heaviside):
    """Heaviside forward (``x > 0``), arctan derivative ``(slope/2)/(1+(pi/2*slope*x)^2)`` backward
    (the derivative of ``atan(pi/2*slope*x)/pi + 1/2``, as snnTorch's ``atan``)."""

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * (ctx.slope / 2) / (1.0 + (math.pi / 2 * ctx.slope * x) ** 2), None


SURROGATES = {"fast_sigmoid": FastSigmoid, "atan": ArcTan}


def spike(x: torch.Tensor, slope: float = 25.0, surrogate: str = "fast_sigmoid") -> torch.Tensor:
    """Spike where ``x > 0`` (strictly); the backward pass uses the named surrogate derivative."""
    return SURROGATES[surrogate].apply(x, slope)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _shape(shape: int | tuple[int, ...]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


class _Population(nn.Module):
    """Shared state loop: subclasses give the IR node; this runs its equations in torch."""

    def __init__(self, shape: int | tuple[int, ...], threshold: Any, dt: float, reset: str, mpbn: bool,
                 slope: float, surrogate: str, learn_threshold: bool) -> None:
        super().__init__()
        self.shape = _shape(shape)
        self.dt = float(dt)
        if reset not in [r.value for r in ir.Reset]:
            raise GraphValidationError(f"unknown reset mode {reset!r}", parameter="reset",
                                       fix=f"use one of {[r.value for r in ir.Reset]}")
        if surrogate not in SURROGATES:
            raise GraphValidationError(f"unknown surrogate {surrogate!r}", parameter="surrogate",
                                       fix=f"use one of {sorted(SURROGATES)}")
        self.reset = ir.Reset(reset).value
        self.slope = float(slope)
        self.surrogate = surrogate
        self.mpbn = bool(mpbn)
        if learn_threshold:
            self.threshold = nn.Parameter(self._per_neuron("threshold", threshold))
        else:
            self._buffer("threshold", threshold)
        if self.mpbn:
            if self.reset not in ("value", "none"):
                raise GraphValidationError(
                    f"reset '{self.reset}' is not defined with a membrane batch-norm",
                    parameter="reset",
                    fix="use reset='value' (hard reset, as in MPBN) or 'none'",
                )
            c = self.shape[0]
            self.bn_weight = nn.Parameter(torch.ones(c))
            self.bn_bias = nn.Parameter(torch.zeros(c))
            self.register_buffer("running_mean", torch.zeros(c))
            self.register_buffer("running_var", torch.ones(c))
            self.bn_eps, self.bn_momentum = 1e-5, 0.1

    def _per_neuron(self, name: str, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            value = _np(value)
        try:
            return torch.as_tensor(np.broadcast_to(np.asarray(value, dtype=np.float64), self.shape).copy())
        except ValueError:
            raise GraphValidationError(
                f"has shape {np.shape(value)}, which does not broadcast to the population shape {self.shape}",
                parameter=name, fix="give one value or one per neuron",
            ) from None

    def _buffer(self, name: str, value: Any) -> None:
        """A per-neuron float64 buffer (``model.float()`` casts it, and the IR node follows)."""
        self.register_buffer(name, self._per_neuron(name, value))

    # --- the IR node ----------------------------------------------------------------------
    def neuron(self) -> ir.Neuron:
        raise NotImplementedError

    def to_ir(self) -> ir.Neuron:
        """The IR population (a :class:`~spikec.ir.MembraneBatchNorm` when ``mpbn``)."""
        node = self.neuron()
        if not self.mpbn:
            return node
        return ir.MembraneBatchNorm(
            neuron=node, mean=_np(self.running_mean), var=_np(self.running_var), gamma=_np(self.bn_weight),
            beta=_np(self.bn_bias), eps=self.bn_eps,
        )

    def _coefficients(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: torch.as_tensor(v, dtype=like.dtype, device=like.device)
                for k, v in self.neuron().coefficients(self.dt).items()}

    def _normalizer(self, like: torch.Tensor) -> Any:
        """``v -> BN(v)``: batch statistics in training, the IR's ``a*v + b`` in eval."""
        if self.training:
            # This step's statistics over (batch, spatial) per channel; running stats updated every step.
            return lambda v: F.batch_norm(v, self.running_mean, self.running_var, self.bn_weight, self.bn_bias,
                                          True, self.bn_momentum, self.bn_eps)
        a, b = (torch.as_tensor(np.array(arr), dtype=like.dtype, device=like.device)
                for arr in self.to_ir().scale_shift())
        return lambda v: a * v + b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[2:]) != self.shape:
            raise GraphValidationError(
                f"expects input (batch, time, *{self.shape}), got {tuple(x.shape)}", parameter="input"
            )
        c = self._coefficients(x)
        normalized = self._normalizer(x) if self.mpbn else (lambda v: v)
        thr = self.threshold.to(x.dtype)
        batch, steps = x.shape[:2]
        v = x.new_zeros((batch, *self.shape))
        i = x.new_zeros((batch, *self.shape))
        z = x.new_zeros((batch, *self.shape))
        out = []
        for t in range(steps):
            drive = x[:, t]
            if "alpha_syn" in c:
                i = c["alpha_syn"] * i + c["gain_syn"] * drive
                drive = i
            v = c["alpha"] * v + c["gain"] * drive + c["bias"]
            if self.reset == "subtract_next":
                v = v - thr * z
            z = spike(normalized(v) - thr, self.slope, self.surrogate)
            if self.reset == "value":
                v = v * (1.0 - z.detach())  # v_reset = 0; detached as in snnTorch
            elif self.reset == "subtract":
                v = v - thr * z
            out.append(z)
        return torch.stack(out, dim=1)


class LIF(_Population):
    """Leaky integrate-and-fire population, :class:`spikec.ir.LIF` step for step.

    ``tau``, ``threshold``, ``v_leak`` and ``r`` are scalars or per-neuron arrays; ``r=None``
    means ``r = tau/dt`` (input gain 1, so ``v = alpha*v + x``).  ``reset`` is an IR reset
    mode; ``mpbn=True`` adds a membrane batch-norm (``reset`` must then be "value" or "none").
    ``surrogate`` is "fast_sigmoid" or "atan" with steepness ``slope``; ``learn_threshold``
    makes the threshold a parameter.
    """

    def __init__(self, shape: int | tuple[int, ...], tau: Any, threshold: Any = 1.0, dt: float = 1e-3,
                 reset: str = "value", v_leak: Any = 0.0, r: Any = None, mpbn: bool = False, slope: float = 25.0,
                 surrogate: str = "fast_sigmoid", learn_threshold: bool = False) -> None:
        super().__init__(shape, threshold, dt, reset, mpbn, slope, surrogate, learn_threshold)
        self._buffer("tau", tau)
        self._buffer("v_leak", v_leak)
        self._buffer("r", np.asarray(tau, dtype=np.float64) / self.dt if r is None else r)

    def neuron(self) -> ir.LIF:
        return ir.make_population(
            ir.LIF, self.shape, tau=_np(self.tau), r=_np(self.r), v_leak=_np(self.v_leak),
            v_threshold=_np(self.threshold), v_reset=0.0, reset=self.reset,
        )


class CubaLIF(_Population):
    """Current-based LIF population, :class:`spikec.ir.CubaLIF` step for step.

    ``r=None`` means ``r = tau_mem/dt`` and ``w_in=None`` means ``w_in = tau_syn/dt`` (both
    gains 1: ``I = alpha_syn*I + x``, ``v = alpha_mem*v + I``).  Other arguments as :class:`LIF`.
    """

    def __init__(self, shape: int | tuple[int, ...], tau_syn: Any, tau_mem: Any, threshold: Any = 1.0,
                 dt: float = 1e-3, reset: str = "value", v_leak: Any = 0.0, r: Any = None, w_in: Any = None,
                 mpbn: bool = False, slope: float = 25.0, surrogate: str = "fast_sigmoid",
                 learn_threshold: bool = False) -> None:
        super().__init__(shape, threshold, dt, reset, mpbn, slope, surrogate, learn_threshold)
        self._buffer("tau_syn", tau_syn)
        self._buffer("tau_mem", tau_mem)
        self._buffer("v_leak", v_leak)
        self._buffer("r", np.asarray(tau_mem, dtype=np.float64) / self.dt if r is None else r)
        self._buffer("w_in", np.asarray(tau_syn, dtype=np.float64) / self.dt if w_in is None else w_in)

    def neuron(self) -> ir.CubaLIF:
        return ir.make_population(
            ir.CubaLIF, self.shape, tau_syn=_np(self.tau_syn), tau_mem=_np(self.tau_mem), r=_np(self.r),
            w_in=_np(self.w_in), v_leak=_np(self.v_leak), v_threshold=_np(self.threshold), v_reset=0.0,
            reset=self.reset,
        )
