"""NIR files written by other frameworks' own exporters, imported by spikec and run against
the framework's own forward pass on the same input spikes.

Each framework's simulation differs from NIR's written semantics (forward Euler, one spike
when ``v > v_threshold``, reset to ``v_reset``) in ways its NIR file does not record.  Where
they agree, spikes must match exactly; where they differ, the test names the difference,
shows that the literal NIR reading disagrees, and applies exactly that difference to the
imported graph to get an exact match again (so weights, shapes, edges and time constants
are proven right, and the difference is proven to be the stated one and nothing else).  The
differences are spikec's conventions (``compiler/frontends/nir_sources.py``,
``from_nir(..., framework=...)``, ``spikec.load(..., source=...)``, ``--source``), so these
tests check each convention against the framework's own forward pass:

- **snnTorch 1.0** (``export_to_nir``, dt = 1e-4 s hard-coded: ``tau = dt/(1-beta)``,
  ``r = tau/dt``).  ``Leaky(reset_mechanism="zero")`` *is* NIR's LIF: exact.  The default
  ``"subtract"`` removes the threshold at the step *after* a spike, after the decay (spikec's
  ``subtract_next``), yet exports the same file.  ``RLeaky``'s ``"zero"`` reset zeroes the
  whole next step, input included (a one-step refractory period, unlike ``Leaky``); its
  ``"subtract"`` is ``subtract_next``, the recurrent bias is zeroed here because a spikec
  back edge delivers 0 at step 0 where snnTorch delivers ``W·0 + b``.
- **Rockpool 3.1** (``rockpool.nn.modules.torch.nir.to_nir``, dt = the module's, 1e-3 s).
  Exponential decays ``exp(-dt/tau)``, not Euler; the synaptic input is added *before* the
  decay (``i = e^{-dt/τs}(i + x)``); subtractive reset; spikes when ``v >= θ``, several per
  step unless ``max_spikes_per_dt=1``.  Its Input carries a batch axis ``[1, N]`` (dropped
  on import).  Not tested: its exporter drops ``w_rec`` (``has_rec=True``) and neuron biases.
- **Spyx 1.0** (``spyx.nir.to_nir``, dt = 1).  A layer's spike at step t comes from its
  membrane at t-1, before the input is integrated (one step of latency per layer); the
  threshold is subtracted at the next step (``subtract_next``); the file's ``r = beta``
  does not describe Spyx's input gain of 1.  Not tested: its Flatten (H, W, C order over a
  C, H, W shape) and RLIF subgraph wiring (input through ``w_rec``) are export bugs.

Norse 1.1 is in tests/compiler/test_nir_norse.py.  Sinabs 3.1's ``from_nir`` builds multi-spike
layers with a clamped membrane, which spikec's neurons cannot compute, so ``source="sinabs"`` is
refused by name.

Locally a missing framework skips its tests; with ``CI`` set it fails them.
"""

from __future__ import annotations

import importlib
import os
import warnings

import numpy as np
import pytest
from spikec import ir
from spikec.compiler.frontends.nir_dt import guess_producer
from spikec.compiler.frontends.nir_io import from_nir, to_nir
from spikec.compiler.frontends.nir_nodes import NodeSpec
from spikec.errors import ModelImportError, ShapeError


def require(module: str):
    """The module; a missing one skips locally but fails in CI (CI must test every framework)."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def spikes(shape, batch=4, steps=60, seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).random((batch, steps, *shape)) < 0.3).astype(np.float32)


def mismatches(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape
    return int(np.count_nonzero(a != b))


def with_reset(g: ir.Graph, reset: str) -> ir.Graph:
    return g.replace(nodes={k: v.replace(reset=reset) if isinstance(v, ir.LIF) else v for k, v in g.nodes.items()})


# --- snnTorch -----------------------------------------------------------------------------

SNN_DT = 1e-4


def snntorch_run(torch, net, x: np.ndarray) -> np.ndarray:
    """snnTorch is time-major: one net(x[t]) call per step, state kept in the modules."""
    from snntorch import utils

    utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            spk, _ = net(torch.as_tensor(x[:, t]))
            out.append(spk.numpy())
    return np.stack(out, 1)


def snntorch_net(kind: str, reset: str):
    torch, snn = require("torch"), require("snntorch")
    torch.manual_seed(0)

    def leaky(shape, beta, **kw):  # per-neuron beta and threshold: export_to_nir works (see below)
        return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.ones(shape), init_hidden=True,
                         reset_mechanism=reset, **kw)

    if kind == "dense":
        layers = [torch.nn.Linear(8, 16), leaky((16,), 0.9), torch.nn.Linear(16, 4), leaky((4,), 0.8, output=True)]
    elif kind == "rleaky":
        rec = snn.RLeaky(beta=torch.full((16,), 0.9), threshold=torch.ones(16), linear_features=16, init_hidden=True,
                         reset_mechanism=reset)
        rec.recurrent.bias.data.zero_()  # see the module docstring: step-0 value of a back edge
        layers = [torch.nn.Linear(8, 16), rec, torch.nn.Linear(16, 4), leaky((4,), 0.8, output=True)]
    else:  # conv
        layers = [torch.nn.Conv2d(2, 4, 3, padding=1), leaky((4, 8, 8), 0.9), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                  torch.nn.Linear(64, 4), leaky((4,), 0.8, output=True)]
    net = torch.nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            m.weight.data *= 3.0  # enough activity that every layer spikes
    return torch, net


def snntorch_export(torch, net, x):
    from snntorch.export_nir import export_to_nir

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return export_to_nir(net, torch.as_tensor(x[:, 0]), ignore_dims=[0])


@pytest.mark.parametrize("kind, shape", [("dense", (8,)), ("conv", (2, 8, 8))])
def test_snntorch_zero_reset_matches_exactly(kind, shape):
    torch, net = snntorch_net(kind, reset="zero")
    x = spikes(shape)
    native = snntorch_run(torch, net, x)
    graph = from_nir(snntorch_export(torch, net, x), dt=SNN_DT)
    assert native.sum() > 10  # the conv net's output layer spikes 23 times
    assert mismatches(ir.simulate(graph, x).output, native) == 0
    again = from_nir(to_nir(graph))  # and through spikec's own NIR export
    assert mismatches(ir.simulate(again, x).output, native) == 0


@pytest.mark.parametrize("kind", ["dense", "rleaky"])
def test_snntorch_subtract_reset_is_subtract_next(kind):
    torch, net = snntorch_net(kind, reset="subtract")
    x = spikes((8,))
    native = snntorch_run(torch, net, x)
    graph = from_nir(snntorch_export(torch, net, x), dt=SNN_DT)
    if kind == "rleaky":
        assert graph.back_edges == {("1.w_rec", "1.lif")}
    # the file says "reset to 0"; snnTorch subtracted the threshold one step later
    assert mismatches(ir.simulate(graph, x).output, native) > 0
    assert mismatches(ir.simulate(with_reset(graph, "subtract_next"), x).output, native) == 0
    # ... which is what source="snntorch" reads, at snnTorch's dt without being told
    as_snntorch = from_nir(snntorch_export(torch, net, x), framework="snntorch")
    assert as_snntorch.dt == SNN_DT and as_snntorch.metadata["source"] == "snntorch"
    assert mismatches(ir.simulate(as_snntorch, x).output, native) == 0


def test_snntorch_scalar_beta_export_and_what_it_does_produce():
    """snnTorch 1.0.0's ``export_to_nir`` fails with nir 1.0.8 on ``Leaky(beta=0.9)`` nets.

    Exact cause: ``_extract_snntorch_module`` writes ``beta.detach().numpy()``, a 0-d array,
    so every LIF parameter has shape ``()`` and ``nir.LIF.__post_init__`` sets
    ``input_type = {"input": array([])}`` -- defined but empty.  ``export_to_nir`` then calls
    ``NIRGraph.infer_types()``, which since nir 1.0.6 raises on a mismatch instead of
    overwriting, so it raises ``type mismatch: 0.output: [[16]] -> 1.input: []``.  Without
    ``ignore_dims=[0]`` it fails one step earlier, on the sample's batch axis in the Input
    (``input.output: [[4 8]] -> 0.input: [[8]]``).  (And nir 1.0.8's ``nir.write`` cannot
    gzip 0-d datasets; ``nir.read`` type-checks by default since 1.0.7.)

    What the exporter *does* build before that call (``nirtorch.extract_nir_graph`` with
    snnTorch's own node mapping) imports: the 0-d parameters are broadcast from the graph's
    shapes, and spikes match exactly with the zero reset.
    """
    torch, snn, nirtorch = require("torch"), require("snntorch"), require("nirtorch")
    from snntorch.export_nir import _extract_snntorch_module, export_to_nir

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), snn.Leaky(beta=0.9, init_hidden=True, reset_mechanism="zero"),
                              torch.nn.Linear(16, 4),
                              snn.Leaky(beta=0.8, init_hidden=True, output=True, reset_mechanism="zero"))
    for m in (net[0], net[2]):
        m.weight.data *= 3.0
    x = spikes((8,))
    sample = torch.as_tensor(x[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"type mismatch: 0.output: \[\[16\]\] -> 1.input: \[\]"):
            export_to_nir(net, sample, ignore_dims=[0])
        with pytest.raises(ValueError, match=r"type mismatch: input.output: \[\[4 8\]\] -> 0.input: \[\[8\]\]"):
            export_to_nir(net, sample)

        def extract(sample, dims):
            return nirtorch.extract_nir_graph(net, _extract_snntorch_module, sample, model_name="snntorch",
                                              ignore_submodules_of=[snn.RLeaky, snn.RSynaptic], ignore_dims=dims)

        produced = extract(sample, [0])
        with_batch = extract(sample[:1], [])  # Input [1, 8]: a batch axis of one
        with_big_batch = extract(sample, [])  # Input [4, 8]
    assert np.shape(produced.nodes["1"].tau) == ()
    native = snntorch_run(torch, net, x)
    graph = from_nir(produced, dt=SNN_DT)
    assert graph.nodes["1"].shape == (16,) and graph.nodes["3"].shape == (4,)
    assert mismatches(ir.simulate(graph, x).output, native) == 0
    batch_one = from_nir(with_batch, dt=SNN_DT)
    assert batch_one.metadata["dropped_leading_axes"] == ["input"]
    assert mismatches(ir.simulate(batch_one, x).output, native) == 0
    # diagnoses: the shape error names the Input and its batch axis; the missing dt names snnTorch's
    with pytest.raises(ShapeError, match=r"node 'input', parameter 'shape'.*\(4, 8\).*batch"):
        from_nir(with_big_batch, dt=SNN_DT)
    with pytest.raises(ModelImportError, match=r"parameter 'dt'.*match snnTorch's export formula: pass dt=0.0001"):
        from_nir(produced)


# --- Rockpool -----------------------------------------------------------------------------

RP_DT = 1e-3


def rockpool_equivalent(g: ir.Graph) -> ir.Graph:
    """The imported graph with Rockpool's discretization: decays exp(-dt/tau) written as Euler
    time constants tau' = dt/(1-exp(-dt/tau)), input added before the synaptic decay
    (gain_syn = exp(-dt/tau_syn)), membrane input gain 1, and subtractive reset."""
    nodes = {}
    for k, v in g.nodes.items():
        if isinstance(v, ir.CubaLIF):
            a_syn, a_mem = np.exp(-g.dt / v.tau_syn), np.exp(-g.dt / v.tau_mem)
            tau_syn, tau_mem = g.dt / (1 - a_syn), g.dt / (1 - a_mem)
            v = v.replace(tau_syn=tau_syn, w_in=a_syn * tau_syn / g.dt, tau_mem=tau_mem, r=tau_mem / g.dt,
                          reset="subtract")
        elif isinstance(v, ir.LIF):
            tau = g.dt / (1 - np.exp(-g.dt / v.tau))
            v = v.replace(tau=tau, r=tau / g.dt, reset="subtract")
        nodes[k] = v
    return g.replace(nodes=nodes)


@pytest.mark.parametrize("neuron", ["LIFTorch", "LIFNeuronTorch"])
def test_rockpool_matches_with_its_exponential_discretization(neuron):
    torch = require("torch")
    require("rockpool")
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFNeuronTorch, LIFTorch, LinearTorch
    from rockpool.nn.modules.torch.nir import to_nir as rockpool_to_nir

    torch.manual_seed(0)
    one = dict(dt=RP_DT, max_spikes_per_dt=1)  # one spike per step, as in NIR
    if neuron == "LIFTorch":  # exported as CubaLIF
        layers = [LinearTorch((8, 16), has_bias=True), LIFTorch(16, tau_mem=0.02, tau_syn=0.005, threshold=1.0, **one),
                  LinearTorch((16, 4)), LIFTorch(4, tau_mem=torch.full((4,), 0.01), tau_syn=torch.full((4,), 0.004),
                                                 threshold=torch.ones(4), **one)]
        gain = 0.5
    else:  # exported as LIF
        layers = [LinearTorch((8, 16)), LIFNeuronTorch(16, tau_mem=0.02, **one), LinearTorch((16, 4)),
                  LIFNeuronTorch(4, tau_mem=0.02, **one)]
        gain = 1.0
    net = Sequential(*layers)
    with torch.no_grad():
        for i in (0, 2):
            net[i].weight *= gain
    x = spikes((8,))
    net.reset_state()
    with torch.no_grad():
        native = net(torch.as_tensor(x))[0].numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = rockpool_to_nir(net)
    assert tuple(exported.nodes["input"].input_type["input"]) == (1, 8)  # Rockpool's batch axis
    graph = from_nir(exported, dt=RP_DT)
    assert graph.metadata["dropped_leading_axes"] == ["input"]
    specs = [NodeSpec(k, type(v).__name__, vars(v)) for k, v in exported.nodes.items()]
    assert guess_producer(specs) == ("Rockpool", RP_DT)  # r = tau exp(-dt/tau)/dt identifies it
    assert native.sum() > 50 and native.max() == 1
    assert mismatches(ir.simulate(graph, x).output, native) > 0  # Euler + reset-to-0 is not Rockpool
    assert mismatches(ir.simulate(rockpool_equivalent(graph), x).output, native) == 0
    as_rockpool = from_nir(exported, framework="rockpool")
    assert as_rockpool.dt == RP_DT and from_nir(exported, framework="rockpool", dt=2e-3).dt == 2e-3
    assert mismatches(ir.simulate(as_rockpool, x).output, native) == 0


# --- Spyx ---------------------------------------------------------------------------------


def spyx_equivalent(g: ir.Graph) -> ir.Graph:
    """The imported graph with Spyx's semantics: input gain 1 (r = tau/dt, not the file's
    r = beta), threshold subtracted at the next step, and each LIF's spikes emitted one step
    late (Spyx fires from the membrane before integrating the step's input)."""
    nodes, edges = dict(g.nodes), list(g.edges)
    for k, v in g.nodes.items():
        if isinstance(v, ir.LIF):
            nodes[k] = v.replace(r=v.tau / g.dt, reset="subtract_next")
            late = f"{k}.emit"
            nodes[late] = ir.Delay(np.ones(v.shape, np.int64))
            edges = [(late, b) if a == k else (a, b) for a, b in edges] + [(k, late)]
    return ir.Graph(nodes, edges, dt=g.dt)


def test_spyx_lif_matches_with_one_step_emission_latency():
    jnp = require("jax.numpy")
    nnx = require("flax.nnx")
    spyx_nn = require("spyx.nn")
    from spyx.nir import to_nir as spyx_to_nir

    rngs = nnx.Rngs(0)
    net = spyx_nn.Sequential(nnx.Linear(8, 16, rngs=rngs), spyx_nn.LIF((16,), beta=0.9, rngs=rngs),
                             nnx.Linear(16, 4, rngs=rngs), spyx_nn.LIF((4,), beta=0.8, rngs=rngs))
    for layer in net.layers:
        if isinstance(layer, nnx.Linear):
            layer.kernel[...] = layer.kernel[...] * 3.0
    x = spikes((8,))
    native = np.asarray(spyx_nn.run(net, jnp.asarray(x), batch_major=True)[0])
    exported = spyx_to_nir(net, {"input": np.array([8])}, {"output": np.array([4])}, dt=1)
    graph = from_nir(exported, dt=1.0)
    assert native.sum() > 50
    assert mismatches(ir.simulate(graph, x).output, native) > 0
    assert mismatches(ir.simulate(spyx_equivalent(graph), x).output, native) == 0
    as_spyx = from_nir(exported, framework="spyx")
    assert as_spyx.dt == 1.0
    assert mismatches(ir.simulate(as_spyx, x).output, native) == 0


def test_unknown_and_unchecked_sources_are_refused_by_name(tmp_path):
    from spikec.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="several spikes per step"):
        from_nir(tmp_path / "never-read.nir", framework="sinabs")
    with pytest.raises(UnsupportedError, match=r"one of \['nir', 'norse', 'rockpool', 'snntorch', 'spyx'\]"):
        from_nir(tmp_path / "never-read.nir", framework="brian")


def test_source_through_the_api_and_the_cli(capsys):
    import spikec
    from spikec.cli import main
    from spikec.errors import UnsupportedError

    paper = os.path.join(os.path.dirname(__file__), "..", "data", "nir", "paper", "braille_noDelay_noBias_subtract.nir")
    graph = spikec.load(paper, source="snntorch")  # the snnTorch Braille RNN of the NIR paper: subtract reset
    assert graph.dt == SNN_DT and graph.metadata["source"] == "snntorch"
    assert {n.reset.value for n in graph.nodes.values() if isinstance(n, ir.CubaLIF)} == {"subtract_next"}
    with pytest.raises(ModelImportError, match="applies to NIR models"):
        spikec.load("default", source="snntorch")
    assert main(["info", paper, "--source", "snntorch"]) == 0
    assert "dt = 0.0001 s" in capsys.readouterr().out
    assert main(["info", paper, "--source", "sinabs"]) == 2
    assert "MultiSpike" in capsys.readouterr().err
    with pytest.raises(UnsupportedError):
        spikec.compile(paper, "loihi1", source="lava-dl")
