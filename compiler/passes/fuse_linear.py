r"""fuse_linear: a chain of linear maps with nothing nonlinear between them is one projection.

Within a step every projection node is an affine map of its summed input, so a node ``A`` whose
only successor is a projection ``B`` (through any Flatten views) computes nothing that
:math:`B \circ A` does not.  The pass replaces the chain by one node under ``B``'s name (``A``'s
inputs feed it), repeatedly, so longer chains fold into one.  That removes the ``pass`` relay a
chain lowers to, which Loihi cannot express and which costs every chip a neuron population and a
hop, and quantize's "two weighted projections on one path".

Linear nodes: Linear, Affine, SparseLinear, Scale, Conv1d/2d, SumPool2d, AvgPool2d, BatchNorm and
Delay.  The fused node is, most compact first:

- a **convolution**, when both are convolutions, poolings, or per-channel Scale/BatchNorm:
  stride :math:`s_a s_b`, taps at :math:`k_b\,d_b\,s_a + k_a\,d_a`, low padding
  :math:`p_b s_a + p_a` (pooling then a convolution is one convolution with a larger kernel).
  Exact only where every padded position ``B`` reads lies wholly in ``A``'s padding (it reads
  zeros either way) and no bias of ``A`` meets ``B``'s padding;
- a **Scale**, when the product is element-wise;
- else the product of the two synapse matrices, a **Linear/Affine** when dense enough (a quarter
  of the pairs or more, or a bias, which SparseLinear has not) and a **SparseLinear** otherwise,
  with a Flatten in front where ``A`` read a multi-dimensional input.  Delays add along each path;
  paths between one pair of neurons with different total delays stay separate synapses, which
  only a SparseLinear can hold.

Left alone, with the reason in the record: a node feeding several nodes or an Output, a
projection summing several inputs, a recurrent edge inside the chain, a bias that would pass a
delay (a delayed bias starts late, so it is not the constant a bias is), a chain no convolution
expresses whose output is not flat, and a product over :data:`FLAT_LIMIT` synapses or
:data:`GROWTH` times the chain's.

In real arithmetic the fused node computes exactly what the chain did.  In floating point the
fused weights round once where the chain rounded partial sums, so spikes are identical when the
values are exactly representable (dyadic weights; the tests) and may differ within an ulp else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...hardware import HardwareSpec
from ...ir.conv import AvgPool2d, Conv1d, Conv2d, ConvNd, SumPool2d, conv_output_size
from ...ir.delay import Delay
from ...ir.graph import Graph
from ...ir.linear import Affine, Linear, Scale, SparseLinear
from ...ir.node import Node
from ...ir.norm import BatchNorm
from ...ir.reshape import Flatten
from .base import Change, PassRecord, PassResult

__all__ = ["fuse_linear", "FLAT_LIMIT", "GROWTH"]

FLAT_LIMIT = 1 << 22   # synapses of a fused dense or sparse projection (and entries of a dense one)
GROWTH = 16            # a fused projection may hold at most this many times the chain's synapses
_LINEAR = (Linear, Affine, SparseLinear, Scale, ConvNd, SumPool2d, AvgPool2d, BatchNorm, Delay)


@dataclass(frozen=True)
class _Flat:
    """``y[tgt] += w * x[src]`` read ``d`` steps ago, plus ``bias`` (None: none), on flat values."""

    n_out: int
    n_in: int
    tgt: np.ndarray
    src: np.ndarray
    w: np.ndarray
    d: np.ndarray
    bias: np.ndarray | None


@dataclass(frozen=True)
class _Conv:
    """A convolution with its groups expanded: weight (C_out, C_in, *kernel), bias (C_out,)."""

    weight: np.ndarray
    bias: np.ndarray
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]


def fuse_linear(graph: Graph, spec: HardwareSpec | None = None) -> PassResult:
    """Fuse every chain of linear nodes into one projection where that is exact (``spec`` is
    unused: fusing changes no arithmetic)."""
    g = graph
    held: dict[str, list[str]] = {}      # fused node -> the input graph's nodes it holds, in order
    failed: dict[tuple[str, ...], str] = {}
    while (step := _next_fusion(g, failed)) is not None:
        g, chain = step
        *front, b = chain
        # A Flatten this pass put in front of a fused node is no node of the input graph.
        held[b] = [m for n in front for m in held.pop(n, [n]) if m in graph.nodes] + held.get(b, [b])
    changes = [_describe(graph, g, b, names) for b, names in held.items()]
    changes += [Change(c[-1], f"not fused with {_names(c[:-1])}: {why}") for c, why in failed.items()
                if all(n in g.nodes for n in c)]
    figures = {"chains_fused": len(held), "nodes_removed": sum(len(v) - 1 for v in held.values()),
               "chains_kept": len(changes) - len(held)}
    return PassResult(g, PassRecord("fuse_linear", tuple(changes), figures))


# --- finding chains -------------------------------------------------------------------------


def _next_fusion(g: Graph, failed: dict[tuple[str, ...], str]) -> tuple[Graph, tuple[str, ...]] | None:
    """The graph with the first fusable chain (in execution order) fused, or None."""
    for b in g.order:
        found = _chain(g, b)
        if found is None or found[0] in failed:
            continue
        chain, why = found
        result = _fuse(g, chain) if why is None else why
        if isinstance(result, str):
            failed[chain] = result
            continue
        return result, chain
    return None


def _chain(g: Graph, b: str) -> tuple[tuple[str, ...], str | None] | None:
    """The chain ``(A, *flatten views, B)`` ending at projection ``b``, and why it cannot fuse
    (None: it may); None where ``b`` reads no linear node."""
    if not isinstance(g.nodes[b], _LINEAR) or not g.predecessors(b):
        return None
    preds = g.predecessors(b)
    cur, views = preds[0], []
    while isinstance(g.nodes[cur], Flatten) and len(g.predecessors(cur)) == 1:
        views.insert(0, cur)
        cur = g.predecessors(cur)[0]
    if not isinstance(g.nodes[cur], _LINEAR):
        return None
    chain = (cur, *views, b)
    if len(preds) > 1:
        return chain, f"'{b}' sums {len(preds)} inputs"
    for x, y in zip(chain, chain[1:]):
        if (x, y) in g.back_edges:
            return chain, f"the edge '{x}' -> '{y}' is recurrent (it reads the previous step)"
    for x in chain[:-1]:
        if len(g.successors(x)) != 1:
            return chain, f"'{x}' also feeds {_names([s for s in g.successors(x) if s not in chain])}"
    return chain, None


def _names(names: Any) -> str:
    return " -> ".join(f"'{n}'" for n in names)


# --- fusing one chain -------------------------------------------------------------------------


def _fuse(g: Graph, chain: tuple[str, ...]) -> Graph | str:
    """``g`` with ``chain`` replaced by one node, or why it stays."""
    a, b = chain[0], chain[-1]
    x_shape, z_shape = g.in_shape(a), g.out_shape(b)
    chain_size = max(_connections(g, a) + _connections(g, b), 1)
    why_not_conv = None
    if len(chain) == 2:
        ca, cb = _as_conv(g, a), _as_conv(g, b)
        if ca is not None and cb is not None:
            conv = _compose_conv(ca, cb, x_shape, g.out_shape(a), z_shape)
            if isinstance(conv, _Conv):
                node = _conv_node(conv, x_shape)
                size = node.synapse_count() * int(np.prod(z_shape[1:]))
                if size <= GROWTH * chain_size:
                    return _rewired(g, chain, node, flatten_first=False)
                return f"the fused convolution would hold {size:,} synapses, over {GROWTH} times the chain's"
            why_not_conv = conv
    flat = _product(g, a, b, min(FLAT_LIMIT, GROWTH * chain_size))
    node = flat if isinstance(flat, str) else _flat_node(flat, x_shape, z_shape)
    if isinstance(node, str):
        return node if why_not_conv is None else f"{why_not_conv}; and {node}"
    return _rewired(g, chain, node, flatten_first=not isinstance(node, Scale) and len(x_shape) != 1)


def _rewired(g: Graph, chain: tuple[str, ...], node: Node, *, flatten_first: bool) -> Graph | str:
    """``g`` with the chain's last node replaced by ``node``, fed by what fed the chain's first
    (through a new Flatten where ``flatten_first``); the chain's other nodes removed."""
    a, b, drop = chain[0], chain[-1], set(chain[:-1])
    head = b
    nodes: dict[str, Node] = {}
    for name, old in g.nodes.items():
        if name == b and flatten_first:
            head = next(f"{b}.flatten{k or ''}" for k in range(len(g.nodes) + 1)
                        if f"{b}.flatten{k or ''}" not in g.nodes)
            nodes[head] = Flatten()
        if name not in drop:
            nodes[name] = node if name == b else old
    edges = [(x, head if y == a else y) for x, y in g.edges if x not in drop]
    if head != b:
        edges.append((head, b))
    out = g.replace(nodes=nodes, edges=edges)
    # Which edge of a cycle reads the previous step comes from a walk in node order: fusing must
    # not move it (that would change what the graph computes).
    expected = {(x, head if y == a else y) for x, y in g.back_edges}
    if out.back_edges != expected:
        return "fusing would change which edge of a cycle reads the previous step"
    return out


def _connections(g: Graph, name: str) -> int:
    """Synapses of a node, counting pooling windows and element-wise maps as synapses."""
    node = g.nodes[name]
    if isinstance(node, (SumPool2d, AvgPool2d)):
        return int(np.prod(g.out_shape(name))) * int(np.prod(node.kernel_size))
    if isinstance(node, (BatchNorm, Delay)):
        return int(np.prod(g.out_shape(name)))
    return g.synapses_of(name)


def _describe(before: Graph, after: Graph, b: str, names: list[str]) -> Change:
    node = after.nodes[b]
    size = _connections(after, b)
    chain = sum(_connections(before, n) for n in names)
    what = (f"fused {' -> '.join(f'{n!r} ({before.nodes[n].kind})' for n in names)} into one {node.kind} with "
            f"{size:,} synapses (the chain: {chain:,})")
    if isinstance(node, ConvNd):
        what += f", kernel {'x'.join(map(str, node.kernel_size))}, stride {node.stride}, padding {node.padding}"
    return Change(b, what, {"fused": list(names), "synapses": size})


# --- convolutions -----------------------------------------------------------------------------


def _as_conv(g: Graph, name: str) -> _Conv | None:
    """Node ``name`` as a convolution over its (C, *spatial) input, or None where it is none."""
    node, shape = g.nodes[name], g.in_shape(name)
    if shape is None or len(shape) < 2:
        return None
    c, n = shape[0], len(shape) - 1
    if isinstance(node, ConvNd):
        return _Conv(_ungrouped(node.weight, node.groups), node.bias, node.stride, node.padding, node.dilation)
    if isinstance(node, (SumPool2d, AvgPool2d)):
        value = 1 if isinstance(node, SumPool2d) else 1.0 / float(np.prod(node.kernel_size))
        weight = np.zeros((c, c, *node.kernel_size), np.int64 if isinstance(value, int) else np.float64)
        weight[np.arange(c), np.arange(c)] = value
        return _Conv(weight, np.zeros(c, weight.dtype), node.stride, node.padding, (1,) * n)
    if isinstance(node, BatchNorm):
        scale, bias = node.scale_shift()
    elif isinstance(node, Scale) and np.all((s := node.scale.reshape(c, -1)) == s[:, :1]):
        scale, bias = s[:, 0].copy(), np.zeros(c, s.dtype)       # a per-channel Scale is a 1x1 convolution
    else:
        return None
    weight = np.zeros((c, c) + (1,) * n, scale.dtype)
    weight[(np.arange(c), np.arange(c)) + (0,) * n] = scale
    return _Conv(weight, bias, (1,) * n, ((0, 0),) * n, (1,) * n)


def _ungrouped(weight: np.ndarray, groups: int) -> np.ndarray:
    """(C_out, C_in/groups, *k) as (C_out, C_in, *k) with zeros between the groups."""
    cout, cin_g = weight.shape[:2]
    full = np.zeros((cout, cin_g * groups, *weight.shape[2:]), weight.dtype)
    for o in range(cout):
        grp = o // (cout // groups)
        full[o, grp * cin_g:(grp + 1) * cin_g] = weight[o]
    return full


def _compose_conv(a: _Conv, b: _Conv, x: tuple[int, ...], y: tuple[int, ...], z: tuple[int, ...]) -> _Conv | str:
    """``b`` after ``a`` as one convolution of ``x``-shaped input, or why none computes it."""
    ka, kb = a.weight.shape[2:], b.weight.shape[2:]
    geo = []
    for i in range(len(ka)):
        dim = _compose_dim(i, ka[i], a.stride[i], a.padding[i], a.dilation[i], kb[i], b.stride[i], b.padding[i],
                           b.dilation[i], x[i + 1], y[i + 1], z[i + 1], bool(np.any(a.bias)))
        if isinstance(dim, str):
            return dim
        geo.append(dim)
    stride, dilation, size, padding = (tuple(d[k] for d in geo) for k in range(4))
    weight = np.zeros((b.weight.shape[0], a.weight.shape[1], *size), np.result_type(a.weight, b.weight))
    for tb in np.ndindex(*kb):
        for ta in np.ndindex(*ka):
            off = tuple((tb[i] * b.dilation[i] * a.stride[i] + ta[i] * a.dilation[i]) // dilation[i]
                        for i in range(len(ka)))
            weight[(slice(None), slice(None)) + off] += b.weight[(slice(None), slice(None)) + tb] @ \
                a.weight[(slice(None), slice(None)) + ta]
    taps = tuple(range(2, b.weight.ndim))
    bias = b.bias + b.weight.sum(axis=taps) @ a.bias
    return _Conv(weight, bias, stride, padding, dilation)


def _compose_dim(i: int, ka: int, sa: int, pa: tuple[int, int], da: int, kb: int, sb: int, pb: tuple[int, int],
                 db: int, nx: int, ny: int, nz: int, a_bias: bool) -> tuple[int, int, int, tuple[int, int]] | str:
    """(stride, dilation, kernel size, padding) of spatial dimension ``i`` of ``b`` after ``a``."""
    reads_low = pb[0] > 0
    reads_high = (nz - 1) * sb + (kb - 1) * db - pb[0] >= ny
    if (reads_low or reads_high) and a_bias:
        return f"the first node's bias would reach the second's zero padding (dimension {i})"
    if reads_low and (ka - 1) * da - pa[0] >= sa:
        return f"the second node's low padding (dimension {i}) stands where the first computes from its input"
    if reads_high and ny * sa - pa[0] < nx:
        return (f"the second node's high padding (dimension {i}) stands where the first would read the input's "
                f"last {nx - (ny * sa - pa[0])} position(s), which it drops")
    step = sa * sb
    dil = math.gcd(db * sa if kb > 1 else 0, da if ka > 1 else 0) or 1
    size = ((kb - 1) * db * sa + (ka - 1) * da) // dil + 1
    low = pb[0] * sa + pa[0]
    high = max(0, (nz - 1) * step + (size - 1) * dil + 1 - nx - low)
    if conv_output_size(nx, size, step, (low, high), dil) != nz:
        return f"one convolution would give more outputs than the chain's {nz} (dimension {i})"
    return step, dil, size, (low, high)


def _conv_node(c: _Conv, x_shape: tuple[int, ...]) -> ConvNd:
    """The IR convolution of ``c`` on input ``x_shape``, with the most groups its zeros allow."""
    cout, cin = c.weight.shape[:2]
    groups = next(gr for gr in range(math.gcd(cout, cin), 0, -1) if cout % gr == 0 and cin % gr == 0
                  and _block_diagonal(c.weight, gr))
    co, ci = cout // groups, cin // groups
    weight = np.concatenate([c.weight[k * co:(k + 1) * co, k * ci:(k + 1) * ci] for k in range(groups)])
    cls = Conv1d if len(x_shape) == 2 else Conv2d
    return cls(weight=weight, bias=c.bias, stride=c.stride, padding=c.padding, dilation=c.dilation, groups=groups,
               input_shape=tuple(x_shape[1:]))


def _block_diagonal(weight: np.ndarray, groups: int) -> bool:
    cout, cin = weight.shape[:2]
    out_group = np.arange(cout) // (cout // groups)
    in_group = np.arange(cin) // (cin // groups)
    off = out_group[:, None] != in_group[None, :]
    return not np.any(weight[off])


# --- synapse matrices ---------------------------------------------------------------------------


def _as_flat(g: Graph, name: str) -> _Flat:
    """Node ``name`` as synapse lists over its flattened input and output."""
    node = g.nodes[name]
    n_in, n_out = int(np.prod(g.in_shape(name))), int(np.prod(g.out_shape(name)))
    if isinstance(node, (Linear, Affine)):
        t, s = np.nonzero(node.weight)
        d = node.delay[t, s] if node.delay is not None else np.zeros(t.size, np.int64)
        bias = node.bias if isinstance(node, Affine) and np.any(node.bias) else None
        return _Flat(n_out, n_in, t, s, node.weight[t, s], d, bias)
    if isinstance(node, SparseLinear):
        keep = node.weight != 0
        d = node.delay[keep] if node.delay is not None else np.zeros(int(keep.sum()), np.int64)
        return _Flat(n_out, n_in, node.target[keep], node.source[keep], node.weight[keep], d, None)
    if isinstance(node, (Scale, Delay, BatchNorm)):
        return _elementwise(node, g.out_shape(name))
    conv = _as_conv(g, name)
    assert conv is not None, f"{node.kind} is linear but has no synapse form"
    return _conv_flat(conv, g.in_shape(name), g.out_shape(name))


def _elementwise(node: Node, shape: tuple[int, ...]) -> _Flat:
    n = int(np.prod(shape))
    bias = None
    if isinstance(node, Scale):
        w, d = node.scale.reshape(-1), np.zeros(n, np.int64)
    elif isinstance(node, Delay):
        w, d = np.ones(n, np.int64), node.delay.reshape(-1)
    else:  # BatchNorm: a per-channel scale and shift
        a, s = node.scale_shift()
        w, d, bias = np.repeat(a, n // shape[0]), np.zeros(n, np.int64), np.repeat(s, n // shape[0])
    idx = np.flatnonzero(w)
    return _Flat(n, n, idx, idx, w[idx], d[idx], bias if bias is not None and np.any(bias) else None)


def _conv_flat(c: _Conv, x_shape: tuple[int, ...], z_shape: tuple[int, ...]) -> _Flat:
    nz = np.nonzero(c.weight)
    w = c.weight[nz]
    q = np.indices(z_shape[1:]).reshape(len(z_shape) - 1, -1)     # output positions, C order
    pos_in = np.zeros((w.size, q.shape[1]), np.int64)
    ok = np.ones(pos_in.shape, bool)
    for i, size in enumerate(x_shape[1:]):
        idx = q[i][None, :] * c.stride[i] + nz[2 + i][:, None] * c.dilation[i] - c.padding[i][0]
        ok &= (idx >= 0) & (idx < size)
        pos_in = pos_in * size + idx
    n_pos_in, n_pos_out = int(np.prod(x_shape[1:])), q.shape[1]
    src = (nz[1][:, None] * n_pos_in + pos_in)[ok]
    tgt = (nz[0][:, None] * n_pos_out + np.arange(n_pos_out)[None, :])[ok]
    weight = np.broadcast_to(w[:, None], ok.shape)[ok]
    bias = np.repeat(c.bias, n_pos_out) if np.any(c.bias) else None
    return _Flat(int(np.prod(z_shape)), int(np.prod(x_shape)), tgt, src, weight, np.zeros(src.size, np.int64), bias)


def _product(g: Graph, a: str, b: str, budget: int) -> _Flat | str:
    """``b`` after ``a`` as one synapse matrix of at most ``budget`` synapses, or why not."""
    for n in (a, b):
        if _connections(g, n) > FLAT_LIMIT:
            return f"'{n}' alone has {_connections(g, n):,} synapses, over the {FLAT_LIMIT:,} a fused matrix may hold"
    fa, fb = _as_flat(g, a), _as_flat(g, b)
    if fa.bias is not None and np.any(fb.d[fa.bias[fb.src] != 0]):
        return f"the bias of '{a}' would pass the delays of '{b}' (a delayed bias starts late: no constant)"
    counts = np.bincount(fa.tgt, minlength=fa.n_out)
    per = counts[fb.src]
    pairs = int(per.sum())
    if pairs > 4 * FLAT_LIMIT:
        return f"the product has {pairs:,} synapse pairs to sum, over {4 * FLAT_LIMIT:,}"
    order = np.argsort(fa.tgt, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rep = np.repeat(np.arange(fb.src.size), per)
    offs = starts[fb.src][rep] + np.arange(pairs) - np.repeat(np.cumsum(per) - per, per)
    fused = _summed(fb.tgt[rep], fa.src[order][offs], fb.w[rep] * fa.w[order][offs], fb.d[rep] + fa.d[order][offs],
                    fb.n_out, fa.n_in)
    if fused[0].size > budget:
        return f"the fused matrix would hold {fused[0].size:,} synapses (limit {budget:,}: {GROWTH} times the chain's)"
    bias = None if fb.bias is None else fb.bias.copy()
    if fa.bias is not None:
        moved = np.zeros(fb.n_out, np.result_type(fb.w, fa.bias))
        np.add.at(moved, fb.tgt, fb.w * fa.bias[fb.src])
        bias = moved if bias is None else bias + moved
    return _Flat(fb.n_out, fa.n_in, *fused, bias)


def _summed(tgt: np.ndarray, src: np.ndarray, w: np.ndarray, d: np.ndarray, n_out: int,
            n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Synapses with equal (target, source, delay) summed into one, zero sums dropped, sorted."""
    span = int(d.max()) + 1 if d.size else 1
    key = (tgt.astype(np.int64) * n_in + src) * span + d
    uniq, inv = np.unique(key, return_inverse=True)
    total = np.zeros(uniq.size, w.dtype)
    np.add.at(total, inv.reshape(-1), w)
    keep = total != 0
    uniq, total = uniq[keep], total[keep]
    pair, delay = np.divmod(uniq, span)
    t, s = np.divmod(pair, n_in)
    return t, s, total, delay


def _flat_node(f: _Flat, x_shape: tuple[int, ...], z_shape: tuple[int, ...]) -> Node | str:
    """The smallest IR node holding ``f``: Scale, Linear/Affine or SparseLinear."""
    delays = bool(np.any(f.d))
    if x_shape == z_shape and f.bias is None and not delays and np.array_equal(f.tgt, f.src):
        scale = np.zeros(f.n_out, f.w.dtype)
        scale[f.tgt] = f.w
        return Scale(scale.reshape(z_shape))
    if len(z_shape) != 1:
        return f"no convolution computes the chain and its output {z_shape} is not flat"
    pair = f.tgt * f.n_in + f.src
    unique_pairs = not np.any(pair[1:] == pair[:-1])      # sorted by (target, source, delay)
    dense_ok = unique_pairs and f.n_out * f.n_in <= FLAT_LIMIT
    if dense_ok and (f.bias is not None or 4 * f.w.size >= f.n_out * f.n_in):
        weight = np.zeros((f.n_out, f.n_in), f.w.dtype)
        weight[f.tgt, f.src] = f.w
        delay = None
        if delays:
            delay = np.zeros(weight.shape, np.int64)
            delay[f.tgt, f.src] = f.d
        return Linear(weight, delay=delay) if f.bias is None else Affine(weight, f.bias, delay=delay)
    if f.bias is not None:
        why = "two paths join one pair of neurons with different delays" if not unique_pairs else \
            f"{f.n_out:,} x {f.n_in:,} entries exceed {FLAT_LIMIT:,}"
        return f"the fused map has a bias, which only a dense Affine carries, and {why}"
    return SparseLinear((f.n_out, f.n_in), f.tgt, f.src, f.w, f.d if delays else None)
