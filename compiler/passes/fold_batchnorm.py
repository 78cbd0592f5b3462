r"""fold_batchnorm: inference needs no batch-norm.

- ``BatchNorm`` right after a Linear, Affine or Conv (the projection feeding only it) becomes
  part of that projection: :math:`W' = a W`, :math:`b' = a b + s` per output channel, with
  :math:`BN(x) = a x + s`.  A projection without a bias becomes one with it (Linear → Affine).
  A batch-norm that follows anything else (a SparseLinear, which has no bias, a neuron, two
  sources) stays and is listed as not folded, with the reason.
- ``MembraneBatchNorm`` (MPBN) fires when :math:`a v + s > \theta`; it becomes its plain
  neuron with a per-neuron threshold :math:`\theta' = (\theta - s)/a` where :math:`a > 0`.
  Where :math:`a < 0` the inequality flips (:math:`v < (\theta - s)/a`), which a neuron that
  fires above its threshold expresses on the negated membrane :math:`v' = -v`: negating
  ``r``, ``v_leak`` and ``v_reset`` negates every term of the update exactly (IEEE negation
  is exact), and :math:`\theta' = (s - \theta)/a`.  The raw-membrane reset of MPBN carries over.
  :math:`a = 0` (gamma = 0) makes firing a constant, which no threshold expresses: an error.

Float caveat: ``a*v + s > θ`` and ``v > (θ - s)/a`` round differently, so a membrane within
about one ulp of the boundary can fire on one side only; tests on trained networks count such
flips (none so far).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import UnsupportedError
from ...hardware import HardwareSpec
from ...ir.conv import ConvNd as _ConvNd
from ...ir.graph import Graph
from ...ir.linear import Affine, Linear
from ...ir.neurons import LIF, CubaLIF, Neuron
from ...ir.norm import BatchNorm, MembraneBatchNorm
from .base import Change, PassRecord, PassResult

__all__ = ["fold_batchnorm"]


def fold_batchnorm(graph: Graph, spec: HardwareSpec | None = None) -> PassResult:
    """Fold every BatchNorm into the projection before it and every MembraneBatchNorm into
    per-neuron thresholds (``spec`` is unused: folding is exact on any target)."""
    nodes = dict(graph.nodes)
    edges = list(graph.edges)
    changes: list[Change] = []
    kept: list[str] = []
    for name in graph.order:
        node = graph.nodes[name]
        if isinstance(node, MembraneBatchNorm):
            nodes[name], change = _fold_membrane(name, node)
            changes.append(change)
        elif isinstance(node, BatchNorm):
            reason = _why_not_foldable(graph, name)
            if reason:
                kept.append(name)
                changes.append(Change(name, f"BatchNorm not folded: {reason}"))
                continue
            (src,) = graph.predecessors(name)
            nodes[src], change = _fold_into_projection(src, nodes[src], node, name)
            changes.append(change)
            # Splice the BatchNorm out: its source now feeds what it fed.
            del nodes[name]
            edges = [(src, b) if a == name else (a, b) for a, b in edges if b != name]
    out = graph.replace(nodes=nodes, edges=edges)
    figures: dict[str, Any] = {
        "batchnorms_folded": sum(1 for c in changes if "not folded" not in c.what),
        "batchnorms_kept": len(kept),
    }
    return PassResult(out, PassRecord("fold_batchnorm", tuple(changes), figures))


def _why_not_foldable(graph: Graph, name: str) -> str | None:
    preds = graph.predecessors(name)
    if len(preds) != 1:
        return f"it sums {len(preds)} inputs"
    (src,) = preds
    if (src, name) in graph.back_edges:
        return "it reads its source through a recurrent edge"
    if not isinstance(graph.nodes[src], (Linear, Affine, _ConvNd)):
        return f"its source '{src}' is a {graph.nodes[src].kind}, not a Linear, Affine or Conv"
    if len(graph.successors(src)) != 1:
        return f"its source '{src}' also feeds other nodes"
    return None


def _fold_into_projection(src: str, proj: Any, bn: BatchNorm, bn_name: str) -> tuple[Any, Change]:
    a, s = bn.scale_shift()
    expand = (slice(None),) + (None,) * (proj.weight.ndim - 1)
    weight = proj.weight * a[expand]
    if isinstance(proj, _ConvNd):
        new = proj.replace(weight=weight, bias=proj.bias * a + s)
    elif isinstance(proj, Affine):
        new = proj.replace(weight=weight, bias=proj.bias * a + s)
    else:  # a Linear gains the shift as its bias
        new = Affine(weight=weight, bias=s, delay=proj.delay)
    return new, Change(src, f"absorbed BatchNorm '{bn_name}' (scale range [{a.min():.4g}, {a.max():.4g}])",
                       {"folded": bn_name})


def _fold_membrane(name: str, node: MembraneBatchNorm) -> tuple[Neuron, Change]:
    a, s = (np.asarray(v, np.float64) for v in node.scale_shift())
    if np.any(a == 0):
        raise UnsupportedError(
            "a channel has gamma = 0, so whether it fires does not depend on the membrane; "
            "no threshold expresses that",
            node=name, parameter="gamma",
            fix="remove those channels, or give them a small non-zero gamma before export",
        )
    neuron = node.neuron
    thr = np.broadcast_to(neuron.v_threshold, a.shape)
    neg = a < 0
    new_thr = np.where(neg, (s - thr) / a, (thr - s) / a)
    changes: dict[str, np.ndarray] = {"v_threshold": new_thr}
    if neg.any():
        sign = np.where(neg, -1.0, 1.0)
        changes["r"] = neuron.r * sign
        changes["v_reset"] = neuron.v_reset * sign
        if isinstance(neuron, (LIF, CubaLIF)):
            changes["v_leak"] = neuron.v_leak * sign
    new = neuron.replace(**changes)
    what = f"MembraneBatchNorm folded into per-neuron thresholds [{new_thr.min():.4g}, {new_thr.max():.4g}]"
    if neg.any():
        what += f"; {int(neg.sum())} neuron(s) with negative gamma fire on the negated membrane"
    return new, Change(name, what, {"negated": int(neg.sum())})
