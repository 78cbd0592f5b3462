"""SANA-FE (sanafe 2.2.9, GPL-3.0: an optional, separately installed test oracle) runs the same
small networks as spikec's C engine with its shipped Loihi per-event table; spikec's cost model
with that table, read from SANA-FE's own ``loihi.yaml``, gives the same event counts and the same
total energy.

The networks: source neurons driven by a bias (they fire every step, or never), feeding layers of
integrate-and-fire neurons (no leak, reset to 0) over positive weights, so both simulators fire
the same neurons on the same steps; mappings place neurons on Loihi's 32 tiles x 4 cores (tile
``k`` sits at mesh ``(k // 4, k % 4)``: SANA-FE's east-west hops cost 3.0 pJ, north-south 4.2 pJ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from spikec.hardware import Sourced
from spikec.runtime.cost import CostTable, estimate
from spikec.runtime.engine import run
from spikec.runtime.program import Population, Program, Projection

sanafe = pytest.importorskip("sanafe", reason="sanafe 2.2.9 (GPL-3.0 test oracle) is not installed")
yaml = pytest.importorskip("yaml")

TILES, CORES_PER_TILE, HEIGHT = 32, 4, 4
BIG = (1 << 23) - 1     # a threshold no neuron reaches in these runs


def _loihi_yaml() -> dict:
    from importlib.resources import files

    return yaml.safe_load(files("sanafe.examples").joinpath("loihi.yaml").read_text())


@pytest.fixture(scope="module")
def loihi_arch(tmp_path_factory):  # noqa: ANN001, ANN201
    """SANA-FE's Loihi architecture without its 1,024 input somas per core (these networks have
    none; building 131,072 of them takes seconds): the costs are untouched."""
    spec = _loihi_yaml()
    core = spec["architecture"]["tile"][0]["core"][0]
    core["soma"] = [s for s in core["soma"] if s["attributes"]["model"] != "input"]
    path = tmp_path_factory.mktemp("sanafe") / "loihi_no_inputs.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _loihi_table() -> CostTable:
    """spikec's cost table from SANA-FE's shipped Loihi table (its per-event figures)."""
    src = "sanafe 2.2.9 examples/loihi.yaml (from Davies et al. 2018)"
    arch = _loihi_yaml()["architecture"]
    tile = arch["tile"][0]
    core = tile["core"][0]
    soma = next(s["attributes"] for s in core["soma"] if s["attributes"]["model"] == "leaky_integrate_fire")
    syn = next(s["attributes"] for s in core["synapse"] if s["name"] == "loihi_dense_synapse")
    out = core["axon_out"][0]["attributes"]
    hop = tile["attributes"]
    assert hop["energy_east_hop"] == hop["energy_west_hop"] and hop["energy_north_hop"] == hop["energy_south_hop"]
    # SANA-FE reads every mapped neuron each step (access) and updates the active ones (access + update).
    return CostTable(
        name="SANA-FE Loihi table",
        e_sop=Sourced(syn["energy_process_spike"], f"{src}: dense synapse"),
        e_nu_active=Sourced(soma["energy_access_neuron"] + soma["energy_update_neuron"],
                            f"{src}: soma access + update"),
        e_nu_idle=Sourced(soma["energy_access_neuron"], f"{src}: soma access"),
        e_spike_out=Sourced(soma["energy_spike_out"], f"{src}: soma spike out"),
        e_msg_local=Sourced(out["energy_message_out"], f"{src}: axon out, per message"),
        e_inject=Sourced(out["energy_message_out"], f"{src}: axon out, per message"),
        e_hop_x=Sourced(hop["energy_east_hop"], f"{src}: east/west hop"),
        e_hop_y=Sourced(hop["energy_north_hop"], f"{src}: north/south hop"),
    )


@dataclass(frozen=True)
class Net:
    """Layer sizes, source biases (0 or 2), positive integer weights per layer pair, per-layer
    thresholds (IF neurons, reset to 0), and the (tile, core) of every neuron."""

    sizes: tuple[int, ...]
    bias: np.ndarray
    weights: tuple[np.ndarray, ...]
    thresholds: tuple[float, ...]
    place: np.ndarray    # (neurons, 2): tile, core


def _random_net(seed: int, sizes: tuple[int, ...], thresholds: tuple[float, ...], spread: int) -> Net:
    rng = np.random.default_rng(seed)
    bias = np.where(rng.random(sizes[0]) < 0.6, 2, 0)
    weights = tuple(rng.integers(1, 4, (a, b)) for a, b in zip(sizes[:-1], sizes[1:]))
    n = sum(sizes)
    place = np.stack([rng.integers(0, spread, n), rng.integers(0, CORES_PER_TILE, n)], axis=1)
    return Net(sizes, bias, weights, thresholds, place)


def _spikec(net: Net, steps: int):  # noqa: ANN202
    unity = 1 << 12
    pops, projs = [], []
    for k, size in enumerate(net.sizes):
        bias = net.bias if k == 0 else np.zeros(size, np.int64)
        thr = 1 if k == 0 else (BIG if net.thresholds[k - 1] is None else int(np.floor(net.thresholds[k - 1])))
        pops.append(Population(f"l{k}", "cuba_fixed", (size,), {
            "du": np.full(size, unity), "dv": np.zeros(size, np.int64), "bias": bias,
            "v_threshold": np.full(size, thr), "v_reset": np.zeros(size, np.int64)}, spiking=True, reset="value",
            config={"decay_bits": 12, "u_bits": 24, "v_bits": 24, "u_overflow": "saturate",
                    "v_overflow": "saturate", "rounding": "floor"}))
        if k:
            projs.append(Projection(f"w{k}", f"l{k - 1}", f"l{k}", "dense", net.weights[k - 1].T, delay_base=1))
    # Only the cores in use, numbered in order; the cores of one tile share its router (mesh point).
    used, core_of = np.unique(net.place[:, 0] * CORES_PER_TILE + net.place[:, 1], return_inverse=True)
    tiles = used // CORES_PER_TILE
    core_xy = np.stack([tiles // HEIGHT, tiles % HEIGHT], axis=1)
    program = Program(1e-3, "fixed", pops, projs, {}, {"out": pops[-1].name}, core_of=core_of, core_xy=core_xy)
    return run(program, {}, steps)


def _sanafe(net: Net, steps: int, arch_path) -> dict:  # noqa: ANN001
    arch = sanafe.load_arch(str(arch_path))
    snn = sanafe.Network()
    groups = []
    for k, size in enumerate(net.sizes):
        thr = 1.0 if k == 0 else (1e9 if net.thresholds[k - 1] is None else net.thresholds[k - 1])
        g = snn.create_neuron_group(f"l{k}", size, model_attributes={"threshold": thr, "leak_decay": 1.0,
                                                                     "reset": 0.0},
                                    soma_hw_name="loihi_lif", default_synapse_hw_name="loihi_dense_synapse")
        if k == 0:
            for i, neuron in enumerate(g.neurons):
                neuron.set_attributes(model_attributes={"bias": float(net.bias[i])})
        else:
            groups[-1].connect_neurons_dense(g, {"weight": net.weights[k - 1].astype(float).reshape(-1).tolist()})
        groups.append(g)
    flat = [n for g in groups for n in g.neurons]
    for neuron, (tile, core) in zip(flat, net.place):
        neuron.map_to_core(arch.tiles[int(tile)].cores[int(core)])
    chip = sanafe.SpikingChip(arch)
    chip.load(snn)
    return chip.sim(steps, timing_model="simple", processing_threads=1)


NETS = {
    "2 layers, one tile column, quiet targets": _random_net(0, (12, 8), (None,), spread=4),
    "2 layers over the whole mesh": _random_net(1, (20, 16), (None,), spread=TILES),
    "3 layers, firing middle layer": _random_net(2, (16, 12, 6), (4.5, None), spread=8),
    "3 layers, all on one core's tile": _random_net(3, (10, 10, 4), (2.5, 6.5), spread=1),
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_event_counts_and_energy_equal_sanafe(name: str, loihi_arch) -> None:  # noqa: ANN001
    net, steps = NETS[name], 12
    ours = _spikec(net, steps)
    theirs = _sanafe(net, steps, loihi_arch)
    c = ours.counters
    spikes = c.total("spikes")
    assert spikes > 0
    assert c.total("synops") == theirs["spikes"]                     # SANA-FE's "spikes": synaptic events
    assert spikes == theirs["neurons_fired"]
    assert c.total("msg_local") + c.total("msg_remote") == theirs["packets_sent"]
    assert c.total("nu_active") == theirs["neurons_updated"]
    est = estimate(c, _loihi_table())
    # The brief asks for 1 %; the two agree to rounding, so any real difference shows.
    assert est.energy == pytest.approx(theirs["energy"]["total"], rel=1e-9)
    assert est.breakdown["synaptic ops"] == pytest.approx(theirs["energy"]["synapse"], rel=1e-9)
