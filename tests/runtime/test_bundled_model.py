"""The bundled digits model on all of its 360 test samples: the engine equals the reference.

Float64: identical outputs.  Fixed point: a fixed-point twin of the model built here as a test
fixture (not the quantize pass): each LIF becomes a FixedCubaLIF whose current decays fully
every step (``du = 2**12``, so ``u`` is just the input, as in a LIF), with
``dv = round(2**12 * (1 - alpha))``, weights and thresholds scaled by 2**10 and rounded.
"""

from __future__ import annotations

import numpy as np
import pytest
from spikec import api, ir
from spikec.compiler.lower import lower
from spikec.runtime import run

D = 12  # decay_bits
SCALE = 2.0**10  # one unit of membrane in the fixed-point twin


@pytest.fixture(scope="module")
def model() -> tuple[ir.Graph, dict[str, np.ndarray]]:
    graph = api.load(api.bundled_model())
    inputs = dict(api.load_dataset(api.bundled_data(), graph).inputs)
    return graph, inputs


def fixed_twin(graph: ir.Graph) -> ir.Graph:
    nodes = dict(graph.nodes)
    for name, node in graph.nodes.items():
        if isinstance(node, ir.LIF):
            c = node.coefficients(graph.dt)
            assert np.all(c["bias"] == 0) and np.all(node.v_reset == 0) and node.reset == ir.Reset.VALUE
            nodes[name] = ir.FixedCubaLIF(
                du=np.full(node.shape, 1 << D), dv=np.round((1 << D) * (1 - c["alpha"])).astype(np.int64),
                bias=np.zeros(node.shape, np.int64), v_threshold=np.round(node.v_threshold * SCALE).astype(np.int64),
                v_reset=np.zeros(node.shape, np.int64), reset="value", decay_bits=D,
            )
        elif isinstance(node, ir.Linear):
            # The LIF after it multiplies its input by `gain`; fold that in with the scale.
            gain = graph.nodes[graph.successors(name)[0]].coefficients(graph.dt)["gain"]
            nodes[name] = ir.Linear(np.round(node.weight * gain[:, None] * SCALE).astype(np.int64))
    return graph.replace(nodes=nodes)


def test_float64_engine_equals_the_reference_on_every_sample(model: tuple) -> None:
    graph, inputs = model
    got = run(lower(graph), inputs, record="all")
    ref = ir.simulate(graph, inputs, dtype=np.float64, record=["1", "3"])
    assert got.output.shape == ref.output.shape == (360, 20, 10)
    np.testing.assert_array_equal(got.output, ref.output)
    for pop in ("1", "3"):
        np.testing.assert_array_equal(got.recorded[pop], ref.recorded[pop])
    assert got.output.any()


def test_fixed_point_twin_is_bit_exact_on_every_sample(model: tuple) -> None:
    graph, inputs = model
    fixed = fixed_twin(graph)
    program = lower(fixed)
    assert program.arithmetic == "fixed"
    got = run(program, inputs, record="all")
    ref = ir.simulate(fixed, inputs, mode="fixed", record=["1", "3"])
    assert got.output.dtype == ref.output.dtype == np.int64
    np.testing.assert_array_equal(got.output, ref.output)
    for pop in ("1", "3"):
        np.testing.assert_array_equal(got.recorded[pop], ref.recorded[pop])
    # The twin is a faithful model, not a silent one: it spikes and classifies like the float model.
    float_out = run(lower(graph), inputs).output
    assert got.output.sum() > 0.5 * float_out.sum()
    assert np.mean(float_out.sum(axis=1).argmax(-1) == got.output.sum(axis=1).argmax(-1)) > 0.9
