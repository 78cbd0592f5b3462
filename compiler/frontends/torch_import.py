"""PyTorch frontend: a ``torch.nn.Sequential`` of torch, snnTorch and ``spikec.nn`` layers -> IR.

``from_torch(model, input_shape=(...))`` walks the (flattened) Sequential, converts each layer
to IR nodes and chains them ``input -> layer 0 -> ... -> output``.  Node names are the module
paths (``"0"``, ``"2.1"``); a recurrent layer adds ``"<path>.rec"`` on the back edge.  Layers
are read from their attributes, never traced, so anything that is not listed in
``nn/TORCH_NOTES.md`` raises :class:`~spikec.errors.UnsupportedError` naming the path and type.
This module imports torch; ``spikec.compiler.frontends`` does not import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from ... import ir
from ...errors import ModelImportError, UnsupportedError
from ...nn import CubaLIF as NNCubaLIF
from ...nn import DelayedLinear
from ...nn import LIF as NNLIF
from . import torch_snntorch

__all__ = ["from_torch"]

DEFAULT_DT = 1e-3
_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


@dataclass
class Builder:
    """The graph under construction: nodes in order, edges, and the shape flowing out of ``tail``."""

    dt: float
    nodes: dict[str, ir.Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    tail: str = "input"
    shape: tuple[int, ...] = ()

    def add(self, name: str, node: ir.Node) -> None:
        """Append ``node`` after the current tail and move the tail to it."""
        self.shape = node.infer_shape(name, self.shape)
        self.nodes[name] = node
        self.edges.append((self.tail, name))
        self.tail = name

    def add_recurrent(self, name: str, neuron: ir.Node, rec: ir.Node) -> None:
        """A population with a recurrent projection ``name -> name.rec -> name`` (a back edge)."""
        self.add(name, neuron)
        rec_name = f"{name}.rec"
        rec.infer_shape(rec_name, self.shape)
        self.nodes[rec_name] = rec
        self.edges += [(name, rec_name), (rec_name, name)]


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().double().numpy()


def _walk(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    for key, child in module.named_children():
        path = f"{prefix}{key}"
        if isinstance(child, nn.Sequential):
            yield from _walk(child, path + ".")
        else:
            yield path, child


def unsupported(path: str, module: nn.Module, why: str, fix: str) -> UnsupportedError:
    return UnsupportedError(f"{type(module).__module__}.{type(module).__qualname__}: {why}", node=path, fix=fix)


# --- torch layers -----------------------------------------------------------------------------


def _linear(b: Builder, path: str, m: nn.Linear) -> None:
    w = _np(m.weight)
    b.add(path, ir.Linear(weight=w) if m.bias is None else ir.Affine(weight=w, bias=_np(m.bias)))


def _conv(b: Builder, path: str, m: nn.Conv1d | nn.Conv2d) -> None:
    if m.padding_mode != "zeros":
        raise unsupported(path, m, f"padding_mode={m.padding_mode!r}", "use padding_mode='zeros'")
    cls = ir.Conv1d if isinstance(m, nn.Conv1d) else ir.Conv2d
    b.add(path, cls(weight=_np(m.weight), bias=_np(m.bias), stride=m.stride, padding=m.padding,
                    dilation=m.dilation, groups=m.groups))


def _batchnorm(b: Builder, path: str, m: nn.BatchNorm1d | nn.BatchNorm2d) -> None:
    if m.training or m.running_mean is None:
        raise unsupported(path, m, "batch statistics (training mode or track_running_stats=False)",
                          "call model.eval() with running statistics tracked before export")
    c = m.num_features
    gamma = _np(m.weight) if m.weight is not None else np.ones(c)
    beta = _np(m.bias) if m.bias is not None else np.zeros(c)
    b.add(path, ir.BatchNorm(mean=_np(m.running_mean), var=_np(m.running_var), gamma=gamma, beta=beta, eps=m.eps))


def _avgpool(b: Builder, path: str, m: nn.AvgPool2d) -> None:
    if m.ceil_mode or m.divisor_override is not None or not m.count_include_pad:
        raise unsupported(path, m, "ceil_mode, divisor_override or count_include_pad=False",
                          "use the defaults (ceil_mode=False, count_include_pad=True, divisor_override=None)")
    b.add(path, ir.AvgPool2d(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding))


def _flatten(b: Builder, path: str, m: nn.Flatten) -> None:
    if m.start_dim == 0:
        raise unsupported(path, m, "start_dim=0 flattens the batch dimension", "use start_dim >= 1")
    # torch counts the batch dimension; the IR counts per-sample dimensions only.
    start = m.start_dim - 1 if m.start_dim > 0 else m.start_dim
    end = m.end_dim - 1 if m.end_dim > 0 else m.end_dim
    b.add(path, ir.Flatten(start_dim=start, end_dim=end))


def _dropped(b: Builder, path: str, m: nn.Module) -> None:
    if isinstance(m, _DROPOUTS) and m.training:
        raise unsupported(path, m, "dropout in training mode is random", "call model.eval() before export")


# --- spikec.nn layers -------------------------------------------------------------------------


def _spikec_neuron(b: Builder, path: str, m: NNLIF | NNCubaLIF) -> None:
    if not np.isclose(m.dt, b.dt, rtol=1e-12, atol=0):
        raise ModelImportError(
            f"was trained with dt={m.dt:g} but the graph uses dt={b.dt:g}", node=path, parameter="dt",
            fix="give every spikec.nn layer the same dt, or pass that dt to from_torch",
        )
    if m.shape != b.shape:
        raise ModelImportError(f"has shape {m.shape} but receives {b.shape}", node=path, parameter="shape")
    b.add(path, m.to_ir())


def _delayed_linear(b: Builder, path: str, m: DelayedLinear) -> None:
    b.add(path, m.to_ir())


_TORCH: list[tuple[type | tuple[type, ...], Any]] = [
    (nn.Linear, _linear),
    ((nn.Conv1d, nn.Conv2d), _conv),
    ((nn.BatchNorm1d, nn.BatchNorm2d), _batchnorm),
    (nn.AvgPool2d, _avgpool),
    (nn.Flatten, _flatten),
    ((nn.Identity, *_DROPOUTS), _dropped),
    ((NNLIF, NNCubaLIF), _spikec_neuron),
    (DelayedLinear, _delayed_linear),
]


def _module_dt(model: nn.Module) -> float | None:
    dts = {float(m.dt) for m in model.modules() if isinstance(m, (NNLIF, NNCubaLIF))}
    return dts.pop() if len(dts) == 1 else None


def from_torch(model: nn.Module, *, input_shape: Any, dt: float | None = None) -> ir.Graph:
    """Convert ``model`` (a ``torch.nn.Sequential``, nested ones flattened) into an IR graph.

    ``input_shape`` is the per-sample shape (no batch or time axis).  ``dt`` defaults to the
    ``dt`` of the model's ``spikec.nn`` layers, else 1 ms; snnTorch layers have no time step of
    their own (``tau = dt/(1-beta)``, ``r = tau/dt``), so any ``dt`` reproduces them.
    """
    if not isinstance(model, nn.Sequential):
        raise ModelImportError(
            f"expected a torch.nn.Sequential, got {type(model).__qualname__}",
            fix="wrap the layers in torch.nn.Sequential (a custom forward() cannot be read from attributes)",
        )
    step = dt if dt is not None else (_module_dt(model) or DEFAULT_DT)
    if not (isinstance(step, (int, float)) and np.isfinite(step) and step > 0):
        raise ModelImportError(f"dt={dt!r} must be a positive number of seconds", parameter="dt")
    shape = (int(input_shape),) if isinstance(input_shape, (int, np.integer)) else tuple(int(s) for s in input_shape)
    b = Builder(dt=float(step), shape=shape)
    b.nodes["input"] = ir.Input(shape=shape)
    for path, m in _walk(model):
        for types, convert in _TORCH:
            if isinstance(m, types):
                convert(b, path, m)
                break
        else:
            if not torch_snntorch.convert(b, path, m):
                raise unsupported(
                    path, m, "is not a layer the PyTorch frontend supports",
                    "see nn/TORCH_NOTES.md for the supported layers, or export the model to NIR",
                )
    b.nodes["output"] = ir.Output()
    b.edges.append((b.tail, "output"))
    return ir.Graph(nodes=b.nodes, edges=tuple(b.edges), dt=b.dt, metadata={"source": "torch"})
