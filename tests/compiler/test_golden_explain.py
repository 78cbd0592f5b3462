"""Golden ``--explain`` text per pass, filecheck style: ``golden/<pass>.txt`` holds, for each fixed
input below, the record that pass writes in the default pipeline.  A reviewer reads a pass's
behaviour change as a diff of that file.

Rewrite them after an intended change with ``SPIKEC_REGEN_GOLDEN=1 pytest
tests/compiler/test_golden_explain.py`` and review the diff.  Times (``*_s``, ``seconds``)
read ``<seconds>``; every other figure must come out the same on every run.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import numpy as np
import pytest
import spikec
from spikec import ir
from spikec.compiler.pipeline import DEFAULT_PASSES, compile_graph
from spikec.hardware import HardwareSpec, Sourced

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("SPIKEC_REGEN_GOLDEN") == "1"
DT = 1e-3

_S = "test: Loihi 1's widths, with a short delay range and small cores so that every pass acts"
SPEC = HardwareSpec("golden", weight_bits=Sourced(8, _S), bias_bits=Sourced(13, _S), threshold_bits=Sourced(17, _S),
                    state_bits=Sourced(24, _S), decay_bits=Sourced(12, _S), max_delay=Sourced(3, _S),
                    neurons_per_core=Sourced(64, _S), mesh_x=Sourced(4, _S), mesh_y=Sourced(4, _S))


def bn_delays() -> ir.Graph:
    """Both batch-norm kinds to fold and delays beyond the spec's 3 steps; exact binary fractions."""
    w1 = (np.arange(24).reshape(6, 4) % 7 - 3) / 4
    bn = ir.BatchNorm(mean=np.linspace(-0.5, 0.5, 6), var=np.full(6, 4.0), gamma=np.linspace(0.5, 1.5, 6),
                      beta=np.linspace(-0.25, 0.25, 6), eps=0.0)
    mbn = ir.MembraneBatchNorm(ir.make_population(ir.LIF, 3, tau=16 * DT, v_threshold=0.5), mean=np.zeros(3),
                               var=np.ones(3), gamma=np.array([2.0, 1.0, 0.5]), beta=np.array([0.0, 0.25, -0.25]),
                               eps=0.0)
    nodes = {
        "in": ir.Input((4,)),
        "fc1": ir.Linear(w1, delay=np.arange(24).reshape(6, 4) % 11),  # delays 0..10
        "bn": bn,
        "lif1": ir.make_population(ir.LIF, 6, tau=8 * DT, v_threshold=0.5),
        "fc2": ir.Linear((np.arange(18).reshape(3, 6) % 5 - 2) / 4, delay=np.full((3, 6), 5)),
        "lif2": mbn,
        "out": ir.Output(),
    }
    edges = [("in", "fc1"), ("fc1", "bn"), ("bn", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "out")]
    return ir.Graph(nodes, edges, dt=DT)


INPUTS = {
    "bundled": ("the bundled digits model", lambda: spikec.load(spikec.bundled_model())),
    "bn_delays": ("Linear (delays 0..10) -> BatchNorm -> LIF -> Linear (delay 5) -> MembraneBatchNorm(LIF)",
                  bn_delays),
}


def _mask_times(text: str) -> str:
    return re.sub(r"(?m)^(  (?:\w+_s|seconds) = ).*$", r"\1<seconds>", text)


def _explain_per_pass() -> dict[str, dict[str, str]]:
    """input -> pass -> its record's explain text, times masked."""
    out = {}
    for key, (_, build) in INPUTS.items():
        records = compile_graph(build(), SPEC).records
        out[key] = {r.name: _mask_times(r.explain()) for r in records}
    return out


def _render(name: str, explained: dict[str, dict[str, str]]) -> str:
    lines = [f"# {name}: its --explain record in the default pipeline, spec '{SPEC.name}' "
             "(tests/compiler/test_golden_explain.py)",
             "# rewrite: SPIKEC_REGEN_GOLDEN=1 pytest tests/compiler/test_golden_explain.py"]
    for key, (what, _) in INPUTS.items():
        lines += ["", f"## {key}: {what}", explained[key][name]]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def explained() -> dict[str, dict[str, str]]:
    return _explain_per_pass()


@pytest.mark.parametrize("name", DEFAULT_PASSES)
def test_explain_matches_the_golden_file(name: str, explained: dict[str, dict[str, str]]) -> None:
    path = GOLDEN / f"{name}.txt"
    text = _render(name, explained)
    if REGEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: run with SPIKEC_REGEN_GOLDEN=1"
    expected = path.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "now"))
    assert text == expected, f"--explain of '{name}' changed (SPIKEC_REGEN_GOLDEN=1 rewrites it):\n{diff}"


def test_explain_is_the_same_on_a_second_run(explained: dict[str, dict[str, str]]) -> None:
    assert _explain_per_pass() == explained


def test_each_pass_acts_on_some_golden_input(explained: dict[str, dict[str, str]]) -> None:
    """A golden file that only ever says 'no change' would check little."""
    for name in ("fold_batchnorm", "map_delays", "quantize"):
        assert any("no change" not in e[name].splitlines()[0] for e in explained.values()), name
    assert any(f"onto {n} cores" in e["map"] for e in explained.values() for n in range(2, 10))
