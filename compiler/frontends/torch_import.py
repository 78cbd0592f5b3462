"""PyTorch frontend: torch, snnTorch and ``spikec.nn`` layers run in sequence -> IR graph.

``from_torch(model, input_shape=(...))`` finds the model's layers in execution order, converts
each from its attributes (weights, decays, thresholds; never by running it) and chains them
``input -> layer -> ... -> output``.  What counts as "in sequence":

- a ``torch.nn.Sequential`` (nested ones are flattened), in its order;
- any other module whose ``forward`` only calls its layers one after another
  (``x = self.fc(x); x = self.lif(x); return x``), found by ``torch.fx`` tracing with every
  layer as a leaf.  Skips, branches, functional ops, time loops -> UnsupportedError.

Node names are the module paths (``"0"``, ``"2.1"``, ``"features.0"``); a recurrent layer adds
``"<path>.rec"`` on the back edge.  Anything not listed in ``nn/TORCH_NOTES.md`` raises
:class:`~spikec.errors.UnsupportedError` naming the path, the type and the fix.  This module
imports torch; ``spikec.compiler.frontends`` does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from ... import ir
from ...errors import ModelImportError, UnsupportedError
from ...nn import LIF as NNLIF
from ...nn import CubaLIF as NNCubaLIF
from ...nn import DelayedLinear, Steps
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


def _is_layer(m: nn.Module) -> bool:
    """A module read as one layer (its forward is never traced): torch, snnTorch or spikec.nn."""
    if isinstance(m, (nn.Sequential, Steps)):
        return False
    if isinstance(m, _LAYER_TYPES):
        return True
    return type(m).__module__.split(".")[0] in ("torch", "snntorch") or not any(True for _ in m.children())


def _traced_chain(module: nn.Module, prefix: str) -> list[tuple[str, nn.Module]]:
    """The layers a non-Sequential module's ``forward`` calls, in call order, via ``torch.fx``.

    Accepted only when ``forward`` is a plain chain ``x -> layer_a(x) -> layer_b(...) -> return``:
    any other operation, a second input, a reused layer or a trace failure (e.g. a Python loop
    over time steps) raises UnsupportedError naming the module."""
    where = prefix[:-1] or "(root)"

    def refuse(why: str) -> UnsupportedError:
        fix = "put the layers in a torch.nn.Sequential (nested Sequentials are fine) or export the model to NIR"
        return unsupported(where, module, why, fix)

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return _is_layer(m) or isinstance(m, Steps)

    try:
        graph = Tracer().trace(module)
    except Exception as exc:  # noqa: BLE001 - any trace failure means "not a plain chain"
        why = f"its forward() could not be traced as a chain of layers ({type(exc).__name__}: {exc})"
        raise refuse(why) from None
    chain: list[tuple[str, nn.Module]] = []
    prev = None
    for node in graph.nodes:
        if node.op == "placeholder":
            if prev is not None:
                raise refuse(f"its forward() takes more than one input ({node.target!r})")
            prev = node
        elif node.op == "call_module" and node.args == (prev,) and not node.kwargs:
            if any(path == f"{prefix}{node.target}" for path, _ in chain):
                raise refuse(f"its forward() calls layer {node.target!r} twice")
            chain.append((f"{prefix}{node.target}", module.get_submodule(node.target)))
            prev = node
        elif node.op == "output" and node.args == (prev,):
            return chain
        else:
            what = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", node.target)
            raise refuse(f"its forward() does more than call layers in sequence ({node.op} {what!r})")
    raise refuse("its forward() returns nothing")


def _walk(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    """``(path, layer)`` in execution order; Sequentials by their order, other containers by tracing."""
    if isinstance(module, Steps):  # a per-step layer made to run on sequences: the layer itself
        children = [(f"{prefix}layer", module.layer)]
    elif isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        children = [(f"{prefix}{key}", child) for key, child in module.named_children()]
    else:
        children = _traced_chain(module, prefix)
    for path, child in children:
        if _is_layer(child):
            yield path, child
        else:
            yield from _walk(child, path + ".")


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
    if m.mpbn and m.training:
        raise unsupported(path, m, "the membrane batch-norm is in training mode (batch statistics)",
                          "call model.eval() before export (the running statistics are used)")
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
_LAYER_TYPES = tuple(t for types, _ in _TORCH for t in (types if isinstance(types, tuple) else (types,)))


def _module_dt(model: nn.Module) -> float | None:
    dts = {float(m.dt) for m in model.modules() if isinstance(m, (NNLIF, NNCubaLIF))}
    return dts.pop() if len(dts) == 1 else None


def from_torch(model: nn.Module, *, input_shape: Any, dt: float | None = None) -> ir.Graph:
    """Convert ``model`` (layers run in sequence, see the module docstring) into an IR graph.

    ``input_shape`` is the per-sample shape (no batch or time axis; channels first).  The graph
    reads inputs ``(batch, time, *input_shape)`` and outputs the last layer's spikes (or
    currents).  ``dt`` defaults to the ``dt`` of the model's ``spikec.nn`` layers, else 1e-3 s;
    snnTorch layers have no time step of their own (``tau = dt/(1-beta)``, ``r = tau/dt``), so
    any ``dt`` reproduces them.  Call ``model.eval()`` first.
    """
    if _is_layer(model):
        raise unsupported("(root)", model, "is a single layer, not a model", "wrap it: torch.nn.Sequential(model)")
    step = dt if dt is not None else (_module_dt(model) or DEFAULT_DT)
    if not (isinstance(step, (int, float)) and np.isfinite(step) and step > 0):
        raise ModelImportError(f"dt={dt!r} must be a positive number of seconds", parameter="dt")
    try:
        one = isinstance(input_shape, (int, np.integer))
        shape = (int(input_shape),) if one else tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ModelImportError(f"input_shape={input_shape!r} is not a tuple of ints", parameter="input_shape",
                               fix="give the per-sample shape, e.g. (64,) or (2, 32, 32)") from None
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
