"""Norse 1.1 (``norse.torch.from_nir``) against ``source="norse"``: NIR files read by Norse's own
importer and by spikec, run on the same input spikes, spike for spike.

Norse's reading differs from NIR's written equations where the file says something Norse does
not read (utils/import_nir.py): a LIF's ``r`` (taken as 1) and ``v_reset`` (Norse's default 0),
its membrane starting at ``v_leak``; a CubaLIF's ``v_reset``; an IF integrates its input as it is
(``v += x``, no ``r``, no ``dt``).  Each case below first shows that the literal reading
(``source="nir"``) disagrees, then that the convention agrees exactly.  A CubaLIF with a leak
potential (Norse starts and leaks its synaptic current at ``v_leak``) is refused by name.
Norse's exporter (``to_nir``) writes ``dt / tau_inv``, i.e. ``tau * dt``, which its own importer
reads as ``tau``: its round trip changes every time constant, so files are written with
``nir.write`` here.  Installed with ``--no-deps`` (its requirements would replace torch).
"""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import pytest
import spikec
from spikec.errors import UnsupportedError
from spikec.ir import simulate

from .test_nir_other_frameworks import require

N_IN, H, N_OUT = 5, 8, 4
RNG = np.random.default_rng(0)
A = RNG.normal(0.5, 1, (H, N_IN)).astype(np.float32)
B_A = RNG.normal(0, 0.2, H).astype(np.float32)
B = RNG.normal(0.1, 1, (N_OUT, H)).astype(np.float32)
PAPER_LIF = Path(__file__).resolve().parents[1] / "data" / "nir" / "paper" / "lif_norse.nir"


def net(neuron: nir.NIRNode) -> nir.NIRGraph:
    readout = nir.LIF(tau=np.full(N_OUT, 5e-3), r=np.ones(N_OUT), v_leak=np.zeros(N_OUT),
                      v_threshold=np.full(N_OUT, 0.6))
    return nir.NIRGraph(
        nodes={"input": nir.Input(np.array([N_IN])), "a": nir.Affine(A, B_A), "n": neuron,
               "b": nir.Affine(B, np.zeros(N_OUT, np.float32)), "l": readout, "output": nir.Output(np.array([N_OUT]))},
        edges=[("input", "a"), ("a", "n"), ("n", "b"), ("b", "l"), ("l", "output")])


def norse_run(path: Path, x: np.ndarray, record: str | None = None) -> np.ndarray:
    """(batch, steps, n) spikes of Norse's model of the file (of node ``record``, else the output)."""
    torch = require("torch")
    nt = require("norse.torch")
    model = nt.from_nir(nir.read(str(path)), ignore_warnings=True)
    xs = torch.as_tensor(x.transpose(1, 0, 2))
    out, state = [], None
    with torch.no_grad():
        for t in range(xs.shape[0]):
            y, state = model(xs[t], state)
            out.append(y)
    return torch.stack(out).numpy().transpose(1, 0, 2)


def spikec_run(path: Path, x: np.ndarray, source: str) -> np.ndarray:
    graph = spikec.load(str(path), source=source, dt=1e-3 if source == "nir" else None)
    return simulate(graph, {graph.inputs[0]: x}, dtype=np.float32).output.reshape(x.shape[0], x.shape[1], -1)


def inputs(seed: int = 1, steps: int = 80) -> np.ndarray:
    return (np.random.default_rng(seed).random((3, steps, N_IN)) < 0.5).astype(np.float32)


CASES = {
    "lif r=2, v_reset=0.3, v_leak=0.1": nir.LIF(tau=np.full(H, 5e-3), r=np.full(H, 2.0), v_leak=np.full(H, 0.1),
                                                v_threshold=np.full(H, 1.0), v_reset=np.full(H, 0.3)),
    "cubalif w_in=1.5, r=2, v_reset=0.3": nir.CubaLIF(
        tau_syn=np.full(H, 4e-3), tau_mem=np.full(H, 6e-3), r=np.full(H, 2.0), v_leak=np.zeros(H),
        v_threshold=np.full(H, 1.0), w_in=np.full(H, 1.5), v_reset=np.full(H, 0.3)),
    "if r=0.5": nir.IF(r=np.full(H, 0.5), v_threshold=np.full(H, 1.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_norse_from_nir_equals_source_norse_and_not_the_literal_reading(case: str, tmp_path: Path) -> None:
    path = tmp_path / "net.nir"
    nir.write(str(path), net(CASES[case]))
    x = inputs()
    native = norse_run(path, x)
    assert 0.02 < native.mean() < 0.6, "the case must spike, and not everywhere"
    assert np.array_equal(spikec_run(path, x, "norse"), native)
    assert not np.array_equal(spikec_run(path, x, "nir"), native)


def test_without_what_norse_ignores_the_literal_reading_is_norse(tmp_path: Path) -> None:
    # r = 1, v_leak = 0, v_reset = 0: nothing for the convention to change, at Norse's dt of 1 ms.
    lif = nir.LIF(tau=np.full(H, 5e-3), r=np.ones(H), v_leak=np.zeros(H), v_threshold=np.full(H, 1.0))
    path = tmp_path / "plain.nir"
    nir.write(str(path), net(lif))
    x = inputs(seed=3)
    assert np.array_equal(spikec_run(path, x, "nir"), norse_run(path, x))
    assert spikec.load(str(path), source="norse").dt == 1e-3


def test_the_nir_papers_norse_lif_reads_as_norse_does() -> None:
    graph = spikec.load(str(PAPER_LIF), source="norse")
    assert graph.dt == 1e-3 and graph.metadata["source"] == "norse"
    x = (np.random.default_rng(4).random((2, 100, *graph.nodes[graph.inputs[0]].shape)) < 0.5).astype(np.float32)
    ours = simulate(graph, {graph.inputs[0]: x}, dtype=np.float32).output
    native = norse_run(PAPER_LIF, x.reshape(2, 100, -1))
    assert np.array_equal(ours.reshape(native.shape), native) and native.sum() > 0


def test_a_norse_cubalif_with_a_leak_potential_is_refused_by_name(tmp_path: Path) -> None:
    cuba = nir.CubaLIF(tau_syn=np.full(H, 4e-3), tau_mem=np.full(H, 6e-3), r=np.ones(H), v_leak=np.full(H, 0.2),
                       v_threshold=np.full(H, 1.0), w_in=np.ones(H))
    path = tmp_path / "leaky.nir"
    nir.write(str(path), net(cuba))
    with pytest.raises(UnsupportedError, match="starts this CubaLIF's synaptic current") as info:
        spikec.load(str(path), source="norse")
    assert info.value.node == "n" and info.value.parameter == "v_leak" and "source='nir'" in info.value.fix
    # The literal reading of the same file still loads (its own equations, no start at v_leak).
    assert spikec.load(str(path), source="nir", dt=1e-3).dt == 1e-3
