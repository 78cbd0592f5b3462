"""The reservoir generator: a valid graph, Maass 2002 connectivity, Dale's law, dyadic weights, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from spikec import ir
from spikec.errors import SpikecError
from spikec.lsm import build_reservoir
from spikec.lsm.reservoir import MAASS_C, MAASS_LAMBDA, RESERVOIR, STATES, W_IN, W_REC


def test_the_graph_is_input_projection_population_recurrence_output() -> None:
    r = build_reservoir(20, 50, seed=1)
    g = r.graph
    assert set(g.nodes) == {"input", W_IN, RESERVOIR, W_REC, STATES}
    assert g.back_edges == {(W_REC, RESERVOIR)}
    lif = g.nodes[RESERVOIR]
    c = lif.coefficients(g.dt)
    np.testing.assert_allclose(c["alpha"], 0.9)
    np.testing.assert_allclose(c["gain"], 1.0)
    assert g.out_shape(STATES) == (50,)


def test_same_seed_same_reservoir_other_seed_other_reservoir() -> None:
    a, b, c = (build_reservoir(30, 80, seed=s) for s in (4, 4, 5))
    for name in ("rec_source", "rec_target", "rec_unit", "in_source", "in_unit", "excitatory"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.rec_unit[:10], c.rec_unit[:10]) or a.rec_source.size != c.rec_source.size


@pytest.mark.parametrize("topology", ["grid", "random"])
def test_no_self_connections_and_dale_signs(topology: str) -> None:
    r = build_reservoir(10, 120, topology=topology, seed=2, p_recurrent=0.2)
    assert r.rec_source.size > 0
    assert not np.any(r.rec_source == r.rec_target)
    exc = r.excitatory[r.rec_source]
    assert np.all(r.rec_unit[exc] >= 0) and np.all(r.rec_unit[~exc] <= 0)
    assert r.excitatory.sum() == round(0.8 * 120)


def test_without_dale_signs_come_from_the_distribution() -> None:
    r = build_reservoir(10, 120, topology="random", dale=False, seed=2, p_recurrent=0.2)
    exc = r.excitatory[r.rec_source]
    assert np.any(r.rec_unit[exc] < 0) and np.any(r.rec_unit[~exc] > 0)


def test_grid_connection_probability_follows_maass() -> None:
    # Pooled over several seeds: the share of E->E pairs at distance 1 that connect is
    # C_EE * exp(-(1/lambda)^2); at distance 2 C_EE * exp(-1).
    hits = {1: [0, 0], 2: [0, 0]}
    for seed in range(6):
        r = build_reservoir(4, 270, seed=seed)
        pos, exc = r.positions, r.excitatory
        d2 = ((pos[:, None] - pos[None]) ** 2).sum(-1)
        conn = np.zeros((270, 270), bool)
        conn[r.rec_source, r.rec_target] = True
        ee = exc[:, None] & exc[None, :]
        for d in hits:
            mask = ee & (d2 == d * d)
            hits[d][0] += int(conn[mask].sum())
            hits[d][1] += int(mask.sum())
    for d, (k, total) in hits.items():
        expected = MAASS_C[("E", "E")] * math.exp(-(d / 2.0) ** 2)
        assert k / total == pytest.approx(expected, abs=4 * math.sqrt(expected / total))


def test_weights_are_multiples_of_the_resolution_and_scale_rebuilds() -> None:
    r = build_reservoir(16, 60, seed=0, resolution=2.0 ** -8)
    for w in (r.recurrent_weights, r.input_weights):
        assert np.array_equal(w * 256, np.round(w * 256))
    s = r.with_scale(2.0)
    np.testing.assert_allclose(s.recurrent_weights, np.round(r.rec_unit * 2.0 * 256) / 256)
    assert np.array_equal(s.rec_source, r.rec_source) and s.scale == 2.0
    assert not np.any(r.with_scale(0.0).recurrent_weights)


def test_the_graph_survives_a_save_and_load(tmp_path) -> None:
    r = build_reservoir(8, 40, seed=3)
    ir.save_graph(r.graph, tmp_path / "r.npz")
    g = ir.load_graph(tmp_path / "r.npz")
    x = (np.random.default_rng(0).random((2, 20, 8)) < 0.3).astype(np.float64)
    a = ir.simulate(r.graph, x, dtype=np.float64).output
    b = ir.simulate(g, x, dtype=np.float64).output
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"n_neurons": 0}, "n_neurons"),
    ({"n_inputs": 2.5}, "n_inputs"),
    ({"topology": "torus"}, "topology"),
    ({"excitatory": 0.0}, "excitatory"),
    ({"p_input": 1.5}, "p_input"),
    ({"decay": 1.0}, "decay"),
    ({"resolution": 0.3}, "resolution"),
    ({"scale": -1.0}, "scale"),
    ({"input_scale": float("nan")}, "input_scale"),
    ({"grid": (2, 2, 2)}, "grid"),
    ({"seed": -1}, "seed"),
    ({"v_threshold": 0}, "v_threshold"),
])
def test_bad_parameters_are_named(kwargs: dict, parameter: str) -> None:
    args = {"n_inputs": 4, "n_neurons": 30, **kwargs}
    with pytest.raises(SpikecError) as info:
        build_reservoir(args.pop("n_inputs"), args.pop("n_neurons"), **args)
    assert info.value.parameter == parameter


def test_the_published_maass_constants() -> None:
    # Maass, Natschläger & Markram 2002: C_EE 0.3, C_EI 0.2, C_IE 0.4, C_II 0.1, lambda 2, 80 % excitatory.
    assert MAASS_C == {("E", "E"): 0.3, ("E", "I"): 0.2, ("I", "E"): 0.4, ("I", "I"): 0.1}
    assert MAASS_LAMBDA == 2.0
    r = build_reservoir(2, 100)
    assert r.excitatory.sum() == 80


@pytest.mark.parametrize("topology, n", [("grid", 10**8), ("random", 300_000)])
def test_a_reservoir_too_big_for_memory_is_refused_before_drawing(topology: str, n: int) -> None:
    # 10^8 grid neurons would draw 512 x 10^8 x 3 doubles per chunk (1.1 TiB); 3 x 10^5 random
    # neurons at p = 0.03 would hold 2.7 x 10^9 synapses.
    from spikec.errors import ResourceLimitError

    with pytest.raises(ResourceLimitError, match="SPIKEC_MAX_BYTES") as info:
        build_reservoir(16, n, topology=topology)
    assert info.value.parameter == "n_neurons" and "smaller reservoir" in info.value.fix
