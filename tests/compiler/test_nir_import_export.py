"""NIR frontend and backend: every nir 1.0.8 node type in and out, subgraphs, recurrence,
hand-computed discretizations, error messages, and a random round-trip property.

Needs only numpy, nir and h5py (runs in the Python 3.10 / numpy 1.26 core environment too).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.compiler.frontends.nir_io import from_nir, read_nir, to_nir, write_nir
from spikec.errors import GraphValidationError, ModelImportError, ShapeError, SpikecError, UnsupportedError

DT = 1e-3
RNG = np.random.default_rng(1234)


# --- builders -----------------------------------------------------------------------------


def full(shape, value):
    return np.full(shape, float(value))


def lif(shape, tau=4e-3, r=2.0, thr=1.0, v_leak=0.0, v_reset=0.0):
    return nir.LIF(tau=full(shape, tau), r=full(shape, r), v_leak=full(shape, v_leak),
                   v_threshold=full(shape, thr), v_reset=full(shape, v_reset))


def cubalif(shape, tau_syn=3e-3, tau_mem=5e-3, r=3.0, thr=0.5, w_in=2.0):
    return nir.CubaLIF(tau_syn=full(shape, tau_syn), tau_mem=full(shape, tau_mem), r=full(shape, r),
                       v_leak=full(shape, 0.1), v_threshold=full(shape, thr), v_reset=full(shape, -0.2),
                       w_in=full(shape, w_in))


def graph(nodes, edges, **kw):
    return nir.NIRGraph(nodes=nodes, edges=edges, **kw)


def chain(*layers, in_shape, out_shape, type_check=False):
    """input -> layer0 -> layer1 ... -> output, named l0, l1, ...  (``type_check`` runs nir's
    own type inference, which fills in shapes that nir.write needs, such as Flatten's.)"""
    nodes = {"input": nir.Input(input_type=np.array(in_shape))}
    nodes.update({f"l{i}": layer for i, layer in enumerate(layers)})
    nodes["output"] = nir.Output(output_type=np.array(out_shape))
    names = list(nodes)
    return graph(nodes, list(zip(names[:-1], names[1:])), type_check=type_check)


def weight(out, inp, scale=1.0):
    return RNG.normal(0.0, scale, size=(out, inp))


def spikes(shape, steps=25, batch=2, p=0.4, seed=0):
    return (np.random.default_rng(seed).random((batch, steps, *shape)) < p).astype(np.float64)


def run(g: ir.Graph, x) -> np.ndarray:
    return ir.simulate(g, x, dtype=np.float64).output


def nir_fields(node) -> dict:
    skip = {"input_type", "output_type", "metadata"}
    return {f.name: getattr(node, f.name) for f in dataclasses.fields(node) if f.name not in skip}


def assert_same_graph(a: ir.Graph, b: ir.Graph, ordered: bool = True) -> None:
    """Same names, edges, node types and every parameter bit-identical.  (HDF5 lists groups
    alphabetically, so a file does not keep the node order; the back edges must still agree.)"""
    if ordered:
        assert list(a.nodes) == list(b.nodes) and list(a.edges) == list(b.edges)
    assert sorted(a.nodes) == sorted(b.nodes) and set(a.edges) == set(b.edges)
    assert a.back_edges == b.back_edges
    assert a.dt == b.dt
    for name in a.nodes:
        na, nb = a.nodes[name], b.nodes[name]
        assert type(na) is type(nb), name
        for f in dataclasses.fields(na):
            va, vb = getattr(na, f.name), getattr(nb, f.name)
            if isinstance(va, np.ndarray):
                np.testing.assert_array_equal(va, vb, err_msg=f"{name}.{f.name}")
            else:
                assert va == vb, f"{name}.{f.name}"


def round_trip(g, x, dt=DT, tmp_path=None) -> ir.Graph:
    """from_nir -> to_nir -> from_nir (and through files): same parameters, same outputs."""
    first = from_nir(g, dt=dt)
    out = run(first, x)
    exported = to_nir(first)
    # nothing else was in first.metadata; the delayed edges are recorded (README, Timing)
    back = json.dumps(sorted([a, b] for a, b in first.back_edges))
    assert exported.metadata == {"dt": dt, "producer": "spikec", "spikec_back_edges": back}
    second = from_nir(exported)  # dt from metadata
    assert_same_graph(first, second)
    np.testing.assert_array_equal(run(second, x), out)
    if tmp_path is not None:
        write_nir(first, tmp_path / "a.nir")
        third = read_nir(tmp_path / "a.nir")
        assert_same_graph(first, third, ordered=False)
        nir.write(tmp_path / "b.nir", g)  # the original, through nir's own writer and reader
        fourth = from_nir(nir.read(tmp_path / "b.nir", type_check=False), dt=dt)
        np.testing.assert_array_equal(run(fourth, x), out)
    return first


# --- (a) every node type ------------------------------------------------------------------


def _conv_graph(type_check=True):
    return chain(
        nir.Conv2d(input_shape=None, weight=RNG.normal(0, 0.6, (4, 2, 3, 3)), stride=1, padding=1,
                   dilation=1, groups=1, bias=RNG.normal(0, 0.1, 4)),
        lif((4, 6, 6)),
        nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        nir.Flatten(input_type=None, start_dim=0, end_dim=-1),
        nir.Affine(weight=weight(5, 36, 0.5), bias=RNG.normal(0, 0.1, 5)),
        cubalif((5,)),
        in_shape=(2, 6, 6), out_shape=(5,), type_check=type_check,
    )


NODE_GRAPHS = {
    "Linear-LIF": lambda: chain(nir.Linear(weight=weight(5, 3)), lif((5,)), in_shape=(3,), out_shape=(5,)),
    "Affine-CubaLIF": lambda: chain(nir.Affine(weight=weight(4, 3), bias=full(4, 0.1)), cubalif((4,)),
                                    in_shape=(3,), out_shape=(4,)),
    "Scale-IF": lambda: chain(nir.Scale(scale=RNG.uniform(0.2, 1.0, 3)),
                              nir.IF(r=full(3, 300.0), v_threshold=full(3, 0.5), v_reset=full(3, 0.0)),
                              in_shape=(3,), out_shape=(3,)),
    "LI": lambda: chain(nir.Linear(weight=weight(2, 3)), nir.LI(tau=full(2, 5e-3), r=full(2, 1.5), v_leak=full(2, 0.2)),
                        in_shape=(3,), out_shape=(2,)),
    "CubaLI": lambda: chain(nir.Linear(weight=weight(2, 3)),
                            nir.CubaLI(tau_syn=full(2, 2e-3), tau_mem=full(2, 6e-3), r=full(2, 1.0),
                                       v_leak=full(2, 0.0), w_in=full(2, 1.5)), in_shape=(3,), out_shape=(2,)),
    "I": lambda: chain(nir.Linear(weight=weight(2, 3)), nir.I(r=full(2, 100.0)), in_shape=(3,), out_shape=(2,)),
    "Threshold": lambda: chain(nir.Affine(weight=weight(3, 3), bias=full(3, -0.2)),
                               nir.Threshold(threshold=full(3, 0.1)), in_shape=(3,), out_shape=(3,)),
    "Conv1d": lambda: chain(
        nir.Conv1d(input_shape=8, weight=RNG.normal(0, 0.7, (3, 2, 3)), stride=2, padding=1, dilation=1, groups=1,
                   bias=np.zeros(3)),
        lif((3, 4)), in_shape=(2, 8), out_shape=(3, 4)),
    "Conv2d-SumPool-Flatten": _conv_graph,
    "AvgPool2d": lambda: chain(
        nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]), padding=np.array([1, 1])),
        nir.IF(r=full((1, 5, 5), 1000.0), v_threshold=full((1, 5, 5), 0.6)), in_shape=(1, 4, 4), out_shape=(1, 5, 5)),
    "Delay": lambda: chain(nir.Linear(weight=np.abs(weight(3, 3)) + 0.5), nir.Delay(delay=np.array([0.0, 2e-3, 5e-3])),
                           lif((3,)), in_shape=(3,), out_shape=(3,)),
}


@pytest.mark.parametrize("name", sorted(NODE_GRAPHS))
def test_every_node_type_round_trips(name, tmp_path):
    g = NODE_GRAPHS[name]()
    x = spikes(tuple(g.nodes["input"].input_type["input"]))
    imported = round_trip(g, x, tmp_path=tmp_path)
    assert imported.metadata["dt_source"] == "argument"
    assert np.abs(run(imported, x)).sum() > 0  # the comparison is not between two silent networks
    exported = to_nir(imported)
    for key, node in g.nodes.items():  # NIR parameters survive unchanged (Delay in seconds)
        back = exported.nodes[key]
        assert type(back) is type(node)
        for field, value in nir_fields(node).items():
            if isinstance(value, np.ndarray) and field not in ("input_type",):
                np.testing.assert_allclose(np.asarray(getattr(back, field), float), value, rtol=1e-12,
                                           err_msg=f"{key}.{field}")


def test_conv_without_input_shape_takes_it_from_the_graph():
    g = from_nir(_conv_graph(type_check=False), dt=DT)
    assert g.nodes["l0"].input_shape == (6, 6) and g.in_shape("l0") == (2, 6, 6)
    assert to_nir(g).nodes["l0"].input_shape == (6, 6)


def test_identity_nodes_are_joined_through():
    g = graph({"input": nir.Input(input_type=np.array([3])),
               "id": nir.ir.graph.Identity(input_type={"input": np.array([3])}),
               "w": nir.Linear(weight=weight(2, 3)), "lif": lif((2,)), "output": nir.Output(output_type=np.array([2]))},
              [("input", "id"), ("id", "w"), ("w", "lif"), ("lif", "output")], type_check=False)
    imported = from_nir(g, dt=DT)
    assert "id" not in imported.nodes and ("input", "w") in imported.edges


def test_missing_input_and_output_nodes_are_added_like_nir_does():
    g = graph({"w": nir.Linear(weight=weight(2, 3)), "lif": lif((2,))}, [("w", "lif")], type_check=False)
    imported = from_nir(g, dt=DT)
    assert imported.inputs == ["input_w"] and imported.outputs == ["output_lif"]


def test_a_lone_node_is_wrapped_with_input_and_output(tmp_path):
    node = lif((3,), tau=2 * DT, r=2.0)
    nir.write(tmp_path / "lone.nir", node)
    for source in (node, tmp_path / "lone.nir"):
        imported = from_nir(source, dt=DT)
        assert imported.edges == (("input_node", "node"), ("node", "output_node"))
        np.testing.assert_array_equal(run(imported, np.full((1, 3, 3), 0.6))[0, :, 0], [0, 0, 1])


# --- broadcasting parameters from the graph's shapes ----------------------------------------


def test_scalar_and_per_channel_parameters_broadcast_from_graph_shapes():
    # snnTorch writes scalar tau with (1,) thresholds; Sinabs per-channel (C, 1, 1)
    neuron = nir.LIF.__new__(nir.LIF)  # bypass nir's equal-shape assert, as a file read would
    for k, v in dict(tau=np.array(2e-3), r=np.array([2.0]), v_leak=np.array(0.0),
                     v_threshold=np.array([[[0.5]], [[1.0]]]), v_reset=np.zeros((1, 1, 1))).items():
        setattr(neuron, k, v)
    g = chain(nir.Conv2d(input_shape=(4, 4), weight=RNG.normal(0, 1, (2, 1, 3, 3)), stride=1, padding=1, dilation=1,
                         groups=1, bias=np.zeros(2)), neuron, in_shape=(1, 4, 4), out_shape=(2, 4, 4))
    pop = from_nir(g, dt=DT).nodes["l1"]
    assert pop.shape == (2, 4, 4)
    np.testing.assert_array_equal(pop.v_threshold[:, 0, 0], [0.5, 1.0])
    np.testing.assert_array_equal(pop.tau, full((2, 4, 4), 2e-3))


def test_lower_rank_per_channel_parameter_is_refused_not_misbroadcast():
    # (C,) against (C, H, W) with W == C would silently broadcast along W in NumPy
    neuron = nir.IF(r=np.ones(3), v_threshold=np.ones(3))
    g = chain(nir.Conv2d(input_shape=(3, 3), weight=np.ones((3, 1, 1, 1)), stride=1, padding=0, dilation=1, groups=1,
                         bias=np.zeros(3)), neuron, in_shape=(1, 3, 3), out_shape=(3, 3, 3))
    with pytest.raises(ShapeError, match=r"node 'l1', parameter 'r'.*\(3,\).*\(3, 3, 3\)"):
        from_nir(g, dt=DT)


# --- (b) nested subgraphs and (c) recurrence ------------------------------------------------


def rleaky(n, w_rec):
    return graph({"input": nir.Input(input_type=np.array([n])), "lif": lif((n,), tau=3e-3, r=3.0),
                  "w_rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type=np.array([n]))},
                 [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")], type_check=False)


def outer_with(sub, edges_in_out=("rnn", "rnn")):
    w1, w2 = weight(4, 3, 1.5), weight(2, 4, 1.0)
    nodes = {"input": nir.Input(input_type=np.array([3])), "w1": nir.Linear(weight=w1), "rnn": sub,
             "w2": nir.Linear(weight=w2), "out_lif": lif((2,)), "output": nir.Output(output_type=np.array([2]))}
    edges = [("input", "w1"), ("w1", edges_in_out[0]), (edges_in_out[1], "w2"), ("w2", "out_lif"),
             ("out_lif", "output")]
    return graph(nodes, edges, type_check=False), (w1, w2)


def test_rleaky_subgraph_flattens_with_dotted_names_and_a_back_edge(tmp_path):
    w_rec = weight(4, 4, 0.8)
    g, (w1, w2) = outer_with(rleaky(4, w_rec))
    imported = round_trip(g, spikes((3,)), tmp_path=tmp_path)
    assert {"rnn.lif", "rnn.w_rec"} <= set(imported.nodes) and "rnn.input" not in imported.nodes
    assert imported.back_edges == {("rnn.w_rec", "rnn.lif")}
    # the same network written directly in spikec
    pop = lambda n, **kw: ir.make_population(ir.LIF, n, v_threshold=1.0, **kw)  # noqa: E731
    direct = ir.Graph(
        {"input": ir.Input((3,)), "w1": ir.Linear(w1), "rnn.lif": pop(4, tau=3e-3, r=3.0),
         "rnn.w_rec": ir.Linear(w_rec), "w2": ir.Linear(w2), "out_lif": pop(2, tau=4e-3, r=2.0), "output": ir.Output()},
        [("input", "w1"), ("w1", "rnn.lif"), ("rnn.lif", "rnn.w_rec"), ("rnn.w_rec", "rnn.lif"),
         ("rnn.lif", "w2"), ("w2", "out_lif"), ("out_lif", "output")], dt=DT)
    x = spikes((3,), steps=40)
    np.testing.assert_array_equal(run(imported, x), run(direct, x))
    assert run(imported, x).any()


@pytest.mark.parametrize("ends", [("rnn", "rnn"), ("rnn.input", "rnn.output")])
def test_edges_may_address_subgraph_nodes_by_dotted_name(ends):
    w_rec = weight(4, 4, 0.8)
    g, _ = outer_with(rleaky(4, w_rec), ends)
    ref, _ = outer_with(rleaky(4, w_rec))
    ref.nodes.update({k: g.nodes[k] for k in ("w1", "w2", "out_lif")})
    x = spikes((3,))
    np.testing.assert_array_equal(run(from_nir(g, dt=DT), x), run(from_nir(ref, dt=DT), x))


def test_two_levels_of_nesting():
    inner = rleaky(4, weight(4, 4, 0.5))
    middle = graph({"in": nir.Input(input_type=np.array([4])), "inner": inner, "scale": nir.Scale(scale=full(4, 2.0)),
                    "out": nir.Output(output_type=np.array([4]))},
                   [("in", "inner"), ("inner", "scale"), ("scale", "out")], type_check=False)
    g, _ = outer_with(middle)
    imported = round_trip(g, spikes((3,)))
    assert {"rnn.inner.lif", "rnn.inner.w_rec", "rnn.scale"} <= set(imported.nodes)
    assert imported.back_edges == {("rnn.inner.w_rec", "rnn.inner.lif")}


def test_recurrent_lif_matches_a_hand_loop():
    w_in, w_rec = weight(3, 2, 1.2), weight(3, 3, 0.7)
    g = graph({"input": nir.Input(input_type=np.array([2])), "w_in": nir.Linear(weight=w_in),
               "lif": lif((3,), tau=4e-3, r=4.0), "w_rec": nir.Linear(weight=w_rec),
               "output": nir.Output(output_type=np.array([3]))},
              [("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
              type_check=False)
    x = spikes((2,), steps=30, batch=1)[0]
    imported = round_trip(g, x[None])
    v, z, expected = np.zeros(3), np.zeros(3), []
    for t in range(len(x)):  # alpha = 1 - dt/tau = 0.75, gain = r dt / tau = 1; the recurrent input is last step's
        v = 0.75 * v + 1.0 * (w_in @ x[t] + w_rec @ z)
        z = (v > 1.0).astype(float)
        v = np.where(z > 0, 0.0, v)
        expected.append(z)
    np.testing.assert_array_equal(run(imported, x[None])[0], np.array(expected))


# --- (d) hand-computed discretization -----------------------------------------------------


def one(x):
    return np.asarray(x, float).reshape(1, -1, 1)


def test_lif_tau_two_dt_gives_alpha_one_half():
    g = chain(nir.Linear(weight=np.array([[0.6]])), lif((1,), tau=2 * DT, r=2.0), in_shape=(1,), out_shape=(1,))
    imported = from_nir(g, dt=DT)
    c = imported.nodes["l1"].coefficients(DT)
    assert c["alpha"] == pytest.approx(0.5) and c["gain"] == pytest.approx(1.0)
    # v: 0.6, 0.9, 1.05 -> spike, reset to 0; 0.6, 0.9, 1.05 -> spike ...
    np.testing.assert_array_equal(run(imported, one(np.ones(7)))[0, :, 0], [0, 0, 1, 0, 0, 1, 0])


def test_lif_leak_and_reset_value():
    # tau = 4 dt: alpha 0.75, gain r/4 = 0.5, bias v_leak/4 = 0.25; reset to v_reset = -1
    g = chain(nir.Linear(weight=np.array([[1.0]])), lif((1,), tau=4 * DT, r=2.0, thr=0.9, v_leak=1.0, v_reset=-1.0),
              in_shape=(1,), out_shape=(1,))
    # v: 0.5+0.25=0.75; 0.5625+0.75=1.3125 spike -> -1; -0.75+0.75=0 ; 0+0.75 = 0.75; 1.3125 spike
    np.testing.assert_array_equal(run(from_nir(g, dt=DT), one([1, 1, 1, 1, 1]))[0, :, 0], [0, 1, 0, 0, 1])


def test_cubalif_updates_current_then_membrane():
    # tau_syn = 2 dt, w_in = 2: I = 0.5 I + 1.0 x; tau_mem = 2 dt, r = 2: v = 0.5 v + 1.0 I
    node = nir.CubaLIF(tau_syn=full(1, 2 * DT), tau_mem=full(1, 2 * DT), r=full(1, 2.0), v_leak=full(1, 0.0),
                       v_threshold=full(1, 1.2), v_reset=full(1, 0.0), w_in=full(1, 2.0))
    g = chain(nir.Linear(weight=np.array([[1.0]])), node, in_shape=(1,), out_shape=(1,))
    # I: 1, 0.5, 0.25;  v: 1.0, 1.0 (0.5+0.5), 0.75 -> no spikes; with x at t=2: I=1.25, v=0.5+1.25=1.75 spike
    np.testing.assert_array_equal(run(from_nir(g, dt=DT), one([1, 0, 0]))[0, :, 0], [0, 0, 0])
    np.testing.assert_array_equal(run(from_nir(g, dt=DT), one([1, 0, 1]))[0, :, 0], [0, 0, 1])


def test_if_integrates_r_dt_x_and_threshold_is_strict():
    g = chain(nir.Linear(weight=np.array([[1.0]])), nir.IF(r=full(1, 250.0), v_threshold=full(1, 1.0)),
              in_shape=(1,), out_shape=(1,))
    # gain r dt = 0.25: v = 0.25, 0.5, 0.75, 1.0 (not > 1), 1.25 spike
    np.testing.assert_array_equal(run(from_nir(g, dt=DT), one(np.ones(6)))[0, :, 0], [0, 0, 0, 0, 1, 0])


def test_li_and_integrator_output_their_state():
    li = chain(nir.Linear(weight=np.array([[1.0]])), nir.LI(tau=full(1, 2 * DT), r=full(1, 1.0), v_leak=full(1, 0.0)),
               in_shape=(1,), out_shape=(1,))
    np.testing.assert_allclose(run(from_nir(li, dt=DT), one([1, 0, 0]))[0, :, 0], [0.5, 0.25, 0.125])
    integ = chain(nir.Linear(weight=np.array([[1.0]])), nir.I(r=full(1, 100.0)), in_shape=(1,), out_shape=(1,))
    np.testing.assert_allclose(run(from_nir(integ, dt=DT), one([1, 0, 1]))[0, :, 0], [0.1, 0.1, 0.2])


def test_delay_in_seconds_becomes_steps():
    g = chain(nir.Delay(delay=np.array([0.0, 3e-3])), in_shape=(2,), out_shape=(2,))
    imported = from_nir(g, dt=DT)
    np.testing.assert_array_equal(imported.nodes["l0"].delay, [0, 3])
    x = np.zeros((1, 6, 2))
    x[0, 1] = 1
    np.testing.assert_array_equal(run(imported, x)[0], [[0, 0], [1, 0], [0, 0], [0, 0], [0, 1], [0, 0]])
    np.testing.assert_array_equal(from_nir(g, dt=DT / 2).nodes["l0"].delay, [0, 6])


def test_model_metadata_survives_a_file_round_trip(tmp_path):
    g = from_nir(chain(nir.Linear(weight=np.ones((1, 1))), lif((1,)), in_shape=(1,), out_shape=(1,)), dt=DT)
    g = g.replace(metadata={**g.metadata, "float_test_accuracy": np.float64(0.93), "steps": 20, "note": "x",
                            "skip": [1]})
    write_nir(g, tmp_path / "m.nir")
    back = read_nir(tmp_path / "m.nir")
    assert back.metadata == {"float_test_accuracy": 0.93, "steps": 20, "note": "x", "producer": "spikec",
                             "frontend": "nir", "dt_source": "metadata"}
    assert type(back.metadata["float_test_accuracy"]) is float


def test_dt_from_metadata_and_argument_wins():
    g = chain(nir.Linear(weight=np.ones((1, 1))), lif((1,), tau=4e-3), in_shape=(1,), out_shape=(1,))
    g.metadata = {"dt": 2e-3}
    assert from_nir(g).dt == 2e-3 and from_nir(g).metadata["dt_source"] == "metadata"
    assert from_nir(g, dt=1e-3).dt == 1e-3


# --- (e) errors name the node, the parameter and the fix ----------------------------------


def test_missing_dt_explains_the_conventions():
    g = chain(nir.Linear(weight=np.ones((1, 1))), lif((1,)), in_shape=(1,), out_shape=(1,))
    with pytest.raises(ModelImportError, match=r"parameter 'dt'.*continuous-time.*snnTorch.*1e-4"):
        from_nir(g)


@pytest.mark.parametrize("dt", [0.0, -1e-3, float("nan")])
def test_bad_dt(dt):
    g = chain(nir.Linear(weight=np.ones((1, 1))), lif((1,)), in_shape=(1,), out_shape=(1,))
    with pytest.raises(ModelImportError, match="dt"):
        from_nir(g, dt=dt)


def _written(tmp_path, g, edit=None):
    path = tmp_path / "model.nir"
    nir.write(path, g)
    if edit is not None:
        with h5py.File(path, "r+") as f:
            edit(f)
    return path


def _lif_file(tmp_path, edit=None):
    return _written(tmp_path, chain(nir.Linear(weight=weight(2, 3)), lif((2,)), in_shape=(3,), out_shape=(2,)), edit)


def _set(key, value):
    def edit(f):
        if key in f:
            del f[key]
        f[key] = value
    return edit


@pytest.mark.parametrize(
    "edit, exc, pattern",
    [
        (lambda f: f.__delitem__("node/nodes/l1/tau"), ModelImportError, r"node 'l1', parameter 'tau'.*no field"),
        (_set("node/nodes/l1/tau", np.array([4e-3, np.nan])), GraphValidationError, r"node 'l1', parameter 'tau'.*NaN"),
        (_set("node/nodes/l1/tau", np.array([4e-3, -1.0])), GraphValidationError, r"node 'l1', parameter 'tau'.*> 0"),
        (_set("node/nodes/l1/tau", np.array([4e-3, 1e-4])), GraphValidationError,
         r"node 'l1', parameter 'tau'.*below the time step"),
        (_set("node/nodes/l1/v_threshold", np.ones(3)), ShapeError, r"node 'l1', parameter 'v_threshold'.*\(3,\)"),
        (_set("node/nodes/l0/weight", np.ones((2, 4))), ShapeError, r"node 'l0'.*\(3,\).*\(2, 4\)"),
        (_set("node/nodes/l1/type", "Izhikevich"), ModelImportError, r"node 'l1'.*'Izhikevich'.*supported NIR types"),
        (_set("node/nodes/l1/bogus", 1.0), ModelImportError, r"node 'l1', parameter 'bogus'.*unknown field"),
        (_set("node/edges", np.array([[b"input", b"l0"], [b"l0", b"l1"], [b"l1", b"nowhere"]], dtype=object)),
         GraphValidationError, r"node 'nowhere'.*not a node"),
        (lambda f: f.__delitem__("node"), ModelImportError, r"not a NIR file"),
    ],
    ids=["missing-field", "nan", "negative-tau", "tau-below-dt", "param-shape", "weight-shape", "unknown-type",
         "unknown-field", "dangling-edge", "no-node-group"],
)
def test_malformed_files_give_named_errors(tmp_path, edit, exc, pattern):
    with pytest.raises(exc, match=pattern):
        from_nir(_lif_file(tmp_path, edit), dt=DT)


def test_every_corrupted_field_gives_a_spikec_error(tmp_path):
    """Delete or garble each dataset of a file with a nested recurrent subgraph in turn: the
    result is a graph or a SpikecError, never a raw h5py/numpy/KeyError traceback."""
    base = _written(tmp_path, outer_with(rleaky(4, weight(4, 4)))[0])
    datasets = []
    with h5py.File(base) as f:
        f.visititems(lambda key, item: datasets.append(key) if isinstance(item, h5py.Dataset) else None)
    assert len(datasets) > 25
    garbles = {"delete": None, "string": "garbage", "rank-3": np.ones((2, 3, 1)), "empty": np.zeros((0,))}
    for key in datasets:
        for how, value in garbles.items():
            path = tmp_path / "bad.nir"
            path.write_bytes(base.read_bytes())
            with h5py.File(path, "r+") as f:
                del f[key]
                if value is not None:
                    f[key] = value
            try:
                read_nir(path, dt=DT)
            except SpikecError as exc:
                assert exc.node is not None or exc.parameter is not None, (key, how, str(exc))


def test_missing_and_non_hdf5_files(tmp_path):
    with pytest.raises(ModelImportError, match="does not exist"):
        read_nir(tmp_path / "missing.nir", dt=DT)
    (tmp_path / "junk.nir").write_bytes(b"not hdf5")
    with pytest.raises(ModelImportError, match="cannot read"):
        read_nir(tmp_path / "junk.nir", dt=DT)


def test_delay_not_a_multiple_of_dt():
    g = chain(nir.Delay(delay=np.array([1e-3, 2.5e-3])), in_shape=(2,), out_shape=(2,))
    with pytest.raises(ModelImportError, match=r"node 'l0', parameter 'delay'.*2.5 steps"):
        from_nir(g, dt=DT)
    from_nir(g, dt=DT / 2)  # fine: 2 and 5 steps


def test_input_with_batch_axis_dropped_or_named():
    g = chain(nir.Linear(weight=weight(2, 3)), lif((2,)), in_shape=(1, 3), out_shape=(1, 2))  # as Rockpool writes
    imported = from_nir(g, dt=DT)
    assert imported.out_shape("input") == (3,) and imported.metadata["dropped_leading_axes"] == ["input"]
    bad = chain(nir.Linear(weight=weight(2, 3)), lif((2,)), in_shape=(20, 3), out_shape=(2,))
    with pytest.raises(ShapeError, match=r"node 'input', parameter 'shape'.*\(20, 3\).*batch or time"):
        from_nir(bad, dt=DT)


def test_flatten_input_type_with_batch_axis_is_named():
    g = chain(nir.Flatten(input_type=np.array([1, 2, 3]), start_dim=0), in_shape=(2, 3), out_shape=(6,))
    with pytest.raises(ShapeError, match=r"node 'l0', parameter 'input_type'.*batch axis"):
        from_nir(g, dt=DT)


def test_flatten_dims_count_per_sample_dims():
    g = chain(nir.Flatten(input_type=np.array([2, 3, 4]), start_dim=1, end_dim=-1), in_shape=(2, 3, 4),
              out_shape=(2, 12))
    assert from_nir(g, dt=DT).out_shape("l0") == (2, 12)


def test_ambiguous_subgraph_port_and_same_padding_with_stride():
    sub = graph({"a": nir.Input(input_type=np.array([2])), "b": nir.Input(input_type=np.array([2])),
                 "o": nir.Output(output_type=np.array([2]))}, [("a", "o"), ("b", "o")], type_check=False)
    g = graph({"input": nir.Input(input_type=np.array([2])), "sub": sub,
               "output": nir.Output(output_type=np.array([2]))},
              [("input", "sub"), ("sub", "output")], type_check=False)
    with pytest.raises(ModelImportError, match=r"node 'sub'.*2 Input nodes.*'sub.a'"):
        from_nir(g, dt=DT)
    conv = nir.Conv2d(input_shape=None, weight=np.ones((1, 1, 3, 3)), stride=2, padding="same", dilation=1, groups=1,
                      bias=np.zeros(1))
    with pytest.raises(UnsupportedError, match=r"node 'l0', parameter 'padding'.*same"):
        from_nir(chain(conv, in_shape=(1, 5, 5), out_shape=(1, 3, 3)), dt=DT)


def test_unknown_object_type():
    with pytest.raises(ModelImportError, match="cannot import a dict"):
        from_nir({"nodes": {}}, dt=DT)


# --- export limits ------------------------------------------------------------------------


def _single(node, in_shape, pre=None):
    nodes = {"input": ir.Input(in_shape)}
    if pre is not None:
        nodes["pre"] = pre
    nodes.update({"n": node, "output": ir.Output()})
    names = list(nodes)
    return ir.Graph(nodes, list(zip(names[:-1], names[1:])), dt=DT)


@pytest.mark.parametrize("reset", ["subtract", "subtract_next", "none"])
def test_export_refuses_reset_modes_nir_lacks(reset):
    g = _single(ir.make_population(ir.LIF, 3, tau=4e-3, v_threshold=1.0, reset=reset), (3,))
    with pytest.raises(UnsupportedError, match=rf"node 'n', parameter 'reset'.*'{reset}'.*v_reset"):
        to_nir(g)


def test_export_refuses_batchnorm():
    bn = ir.BatchNorm(mean=np.zeros(3), var=np.ones(3), gamma=np.ones(3), beta=np.zeros(3))
    with pytest.raises(UnsupportedError, match=r"node 'n'.*BatchNorm.*fold_batchnorm"):
        to_nir(_single(bn, (3,)))
    mbn = ir.MembraneBatchNorm(neuron=ir.make_population(ir.LIF, 3, tau=4e-3, v_threshold=1.0), mean=np.zeros(3),
                               var=np.ones(3), gamma=np.ones(3), beta=np.zeros(3))
    with pytest.raises(UnsupportedError, match=r"node 'n'.*membrane batch-norm.*fold_batchnorm"):
        to_nir(_single(mbn, (3,)))


def test_export_refuses_fixed_point_neurons():
    import inspect

    params = inspect.signature(ir.FixedCubaLIF).parameters
    kwargs = {k: np.full(2, 1) for k, p in params.items() if p.default is inspect.Parameter.empty}
    node = ir.FixedCubaLIF(**kwargs)
    with pytest.raises(UnsupportedError, match=r"node 'n'.*fixed-point.*quantize"):
        to_nir(_single(node, (2,), pre=ir.Linear(np.ones((2, 2), dtype=np.int64))))


def test_export_padding():
    w = RNG.normal(size=(2, 1, 2, 2))
    same = _single(ir.Conv2d(w, padding="same"), (1, 5, 5))  # even kernel: (0, 1) per dim, PyTorch's split
    exported = to_nir(same)
    assert exported.nodes["n"].padding == "same"
    x = spikes((1, 5, 5), steps=3)
    np.testing.assert_array_equal(run(from_nir(exported), x), run(same, x))
    asym = _single(ir.Conv2d(w, padding=((0, 1), (1, 1))), (1, 5, 5))
    with pytest.raises(UnsupportedError, match=r"node 'n', parameter 'padding'.*asymmetric"):
        to_nir(asym)
    with pytest.raises(UnsupportedError, match=r"node 'n', parameter 'padding'"):
        to_nir(_single(ir.SumPool2d(2, padding=((0, 1), (0, 0))), (1, 4, 4)))


def test_export_sparse_as_dense():
    sparse = ir.SparseLinear(shape=(3, 4), target=[0, 2, 2], source=[1, 3, 0], weight=[0.5, -1.0, 2.0])
    g = _single(ir.make_population(ir.LIF, 3, tau=4e-3, r=4.0, v_threshold=0.5), (4,), pre=sparse)
    exported = to_nir(g)
    np.testing.assert_array_equal(exported.nodes["pre"].weight, sparse.to_dense())
    x = spikes((4,))
    np.testing.assert_array_equal(run(from_nir(exported), x), run(g, x))


def _delayed_linear(delay, cls=ir.Linear):
    w = RNG.normal(0, 1.0, (3, 4))
    pre = cls(w, delay=delay) if cls is ir.Linear else cls(w, np.full(3, 0.1), delay=delay)
    return _single(ir.make_population(ir.LIF, 3, tau=4e-3, r=4.0, v_threshold=0.5), (4,), pre=pre)


@pytest.mark.parametrize("kind", ["per-source", "per-target"])
def test_export_per_neuron_synaptic_delays_as_delay_nodes(kind, tmp_path):
    d = np.array([0, 2, 1, 3]) if kind == "per-source" else np.array([[1], [0], [4]])
    g = _delayed_linear(np.broadcast_to(d, (3, 4)).copy())
    exported = to_nir(g)
    assert isinstance(exported.nodes["pre.delay"], nir.Delay)
    assert (("pre.delay", "pre") if kind == "per-source" else ("pre", "pre.delay")) in exported.edges
    x = spikes((4,), steps=30)
    write_nir(g, tmp_path / "d.nir")
    np.testing.assert_array_equal(run(read_nir(tmp_path / "d.nir"), x), run(g, x))


def test_export_refuses_general_per_synapse_delays():
    with pytest.raises(UnsupportedError, match=r"node 'pre', parameter 'delay'.*per-synapse"):
        to_nir(_delayed_linear(np.arange(12).reshape(3, 4) % 3))
    with pytest.raises(UnsupportedError, match=r"node 'pre', parameter 'delay'"):  # bias + per-target delay
        to_nir(_delayed_linear(np.broadcast_to(np.array([[1], [0], [2]]), (3, 4)).copy(), cls=ir.Affine))


# --- (f) property: random feed-forward graphs round-trip ----------------------------------

NEURON_KINDS = ["LIF", "CubaLIF", "IF", "LI"]


@st.composite
def feed_forward(draw):
    n_in = draw(st.integers(1, 5))
    depth = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    nodes, sizes = {"input": nir.Input(input_type=np.array([n_in]))}, [n_in]
    for i in range(depth):
        n = draw(st.integers(1, 6))
        w = rng.normal(0.5, 1.5, (n, sizes[-1]))  # positive on average, so most examples spike
        nodes[f"w{i}"] = (nir.Affine(weight=w, bias=rng.normal(0, 0.2, n)) if draw(st.booleans())
                          else nir.Linear(weight=w))
        kind = draw(st.sampled_from(NEURON_KINDS if i == depth - 1 else NEURON_KINDS[:3]))
        tau = lambda: rng.uniform(1.0, 10.0, n) * DT  # noqa: E731
        p = dict(r=rng.uniform(0.5, 3.0, n), v_leak=rng.normal(0, 0.1, n))
        if kind == "LIF":
            nodes[f"n{i}"] = nir.LIF(tau=tau(), v_threshold=rng.uniform(0.2, 1.5, n), v_reset=rng.normal(0, 0.1, n),
                                     **p)
        elif kind == "CubaLIF":
            nodes[f"n{i}"] = nir.CubaLIF(tau_syn=tau(), tau_mem=tau(), v_threshold=rng.uniform(0.2, 1.5, n),
                                         v_reset=np.zeros(n), w_in=rng.uniform(0.5, 2.0, n), **p)
        elif kind == "IF":
            nodes[f"n{i}"] = nir.IF(r=rng.uniform(100, 900, n), v_threshold=rng.uniform(0.2, 1.5, n))
        else:
            nodes[f"n{i}"] = nir.LI(tau=tau(), **p)
        sizes.append(n)
    nodes["output"] = nir.Output(output_type=np.array([sizes[-1]]))
    names = list(nodes)
    return graph(nodes, list(zip(names[:-1], names[1:]))), n_in, seed


@settings(max_examples=40, deadline=None)
@given(feed_forward())
def test_random_feed_forward_graphs_round_trip(case):
    g, n_in, seed = case
    x = spikes((n_in,), steps=20, seed=seed)
    first = round_trip(g, x)
    exported = to_nir(first)
    for key, node in g.nodes.items():
        for field, value in nir_fields(node).items():
            if isinstance(value, np.ndarray) and key not in ("input", "output"):
                np.testing.assert_array_equal(getattr(exported.nodes[key], field), value)


# --- real exporter files (tests/data/nir, written by tests/data/nir/make_fixtures.py) -------

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "nir"


def test_snntorch_file_with_0d_parameters_matches_snntorch_output():
    path = FIXTURES / "snntorch_scalar_leaky.nir"
    with h5py.File(path) as f:
        assert f["node/nodes/1/tau"].shape == ()  # a scalar beta gives 0-d parameters
    with pytest.raises(ModelImportError, match="match snnTorch's export formula: pass dt=0.0001"):
        read_nir(path)
    graph = read_nir(path, dt=1e-4)
    assert graph.nodes["1"].shape == (5,) and graph.nodes["3"].shape == (3,)
    with np.load(FIXTURES / "snntorch_scalar_leaky.npz") as data:
        x, expected = data["input"].astype(np.float32), data["output"]
    assert expected.sum() > 5
    np.testing.assert_array_equal(ir.simulate(graph, x).output, expected)  # float32, as snnTorch ran


def test_rockpool_file_with_batch_axis():
    path = FIXTURES / "rockpool_cubalif.nir"
    with pytest.raises(ModelImportError, match="match Rockpool's export formula: pass dt=0.001"):
        read_nir(path)
    graph = read_nir(path, dt=1e-3)
    assert graph.metadata["dropped_leading_axes"] == ["input"] and graph.out_shape("input") == (6,)
    assert isinstance(graph.nodes["1_LIFTorch"], ir.CubaLIF)


def test_spyx_file_with_nested_recurrent_subgraph():
    graph = read_nir(FIXTURES / "spyx_rlif.nir", dt=1.0)
    lif, w_rec = "layer_1.layer_1.lif", "layer_1.layer_1.w_rec"
    assert isinstance(graph.nodes[lif], ir.LIF) and isinstance(graph.nodes[w_rec], ir.Linear)
    # Spyx wires input -> w_rec -> lif (its own RLIF does not pass the input through w_rec:
    # an export bug, imported as written); the recurrent edge is lif -> w_rec
    assert ("layer_0", w_rec) in graph.edges and graph.back_edges == {(lif, w_rec)}
    assert not any(n.endswith((".input", ".output")) for n in graph.nodes)
