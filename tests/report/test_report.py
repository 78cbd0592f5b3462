"""``spikec report`` for every target (parametrised over ``list_targets()``, so a new target is
covered when it lands): the page opens offline in headless Chromium with no console error, every
plot draws, and a screenshot is saved.  The figures' data are checked against the run."""

from __future__ import annotations

import numpy as np
import pytest
from spikec import api
from spikec.errors import OutputError, SimulationError, SpikecError
from spikec.report import chip_report, collect, link_loads

TARGETS = [t.name for t in api.list_targets(errors=[])]
# spinnaker2 with small PEs: the network spreads over a mesh of cores, so links carry traffic.
SPREAD = {"spinnaker2": {"neurons_per_pe": 24}}
PLOTS = 9   # accuracy, 4 core heat maps, links, layer rates, energy, latency
MUST_RENDER = {"loihi2", "spinnaker2", "reram"}


def _fits(target: str) -> SpikecError | None:
    """Why ``target`` cannot take the bundled digits model (64 inputs, LIF neurons), if it cannot:
    a chip with 16 input channels, a binary-network ASIC."""
    try:
        api.compile("default", target, options=SPREAD.get(target))
    except SpikecError as exc:
        return exc
    return None


@pytest.mark.parametrize("target", TARGETS)
def test_report_renders_in_headless_chromium(target, tmp_path, open_page):
    path = tmp_path / f"{target}.html"
    refusal = _fits(target)
    if refusal is not None:
        assert target not in MUST_RENDER
        # The report refuses as compile does, naming the same limit, and writes nothing.
        with pytest.raises(type(refusal)) as err:
            chip_report("default", target, path, options=SPREAD.get(target), samples=4)
        assert str(err.value) == str(refusal) and not path.exists()
        return
    path, rep = chip_report("default", target, path, options=SPREAD.get(target), samples=12, calibration=8)
    text = path.read_text()
    assert 'src="http' not in text and "<script src" not in text     # plotly inlined, nothing fetched
    errors, plots, shot = open_page(path, f"report-{target}")
    assert errors == []
    assert len(plots) == PLOTS
    assert all(svg >= 1 and traces >= 1 for _, svg, traces in plots), plots
    assert shot.stat().st_size > 10_000
    assert rep.target == target and rep.samples == 12


def test_mesh_grids_agree_with_the_run():
    rep = collect("default", "spinnaker2", options=SPREAD["spinnaker2"], samples=10)
    run = api.run(api.compile("default", "spinnaker2", options=SPREAD["spinnaker2"]).program,
                  api.resolve_data(None, "default", api.load("default"), 10))
    program, counters = run.program, run.result.counters
    grids = rep.mesh.cores
    assert rep.n_cores == program.n_cores > 4
    assert np.nansum(grids["neurons per core"]) == sum(p.size for p in program.populations)
    assert np.count_nonzero(~np.isnan(grids["neurons per core"])) == program.n_cores
    assert np.nansum(grids["synapse memory per core (synapses)"]) == program.connection_count()
    assert np.nansum(grids["spikes sent per sample"]) == pytest.approx(counters.total("spikes") / 10)
    # Every hop the engine counted crosses one link: the link loads add up to the hop counters.
    assert np.nansum(rep.mesh.east) == pytest.approx(counters.total("hops_x") / 10)
    assert np.nansum(rep.mesh.north) == pytest.approx(counters.total("hops_y") / 10)
    assert np.nansum(rep.mesh.east) > 0 and np.nansum(rep.mesh.north) > 0


def test_link_loads_follow_x_then_y_routes():
    """Per link, against a walk of every message's route, hop by hop (X along the source's row,
    then Y along the destination's column)."""
    from spikec.runtime.fanout import message_pairs
    from spikec.runtime.synapses import program_synapses

    program = api.compile("default", "spinnaker2", options={"neurons_per_pe": 16}).program
    rate = np.random.default_rng(0).random(int(program.offsets[-1]))
    xy = np.asarray(program.core_xy)
    shape = (int(xy[:, 1].max()) + 1, int(xy[:, 0].max()) + 1)
    east, north = link_loads(program, rate, shape)
    want_e, want_n = np.zeros(shape), np.zeros(shape)
    src, dst = program_synapses(program)
    core_of = np.asarray(program.core_of)
    for unit, core in zip(*message_pairs(src, core_of[dst], program.n_cores)):
        (x, y), (tx, ty) = xy[core_of[unit]], xy[core]
        while x != tx:
            step = 1 if tx > x else -1
            want_e[y, min(x, x + step)] += rate[unit]
            x += step
        while y != ty:
            step = 1 if ty > y else -1
            want_n[min(y, y + step), x] += rate[unit]
            y += step
    assert xy[:, 0].max() >= 1 and xy[:, 1].max() >= 1      # a mesh in both directions
    np.testing.assert_allclose(np.nan_to_num(east), want_e, atol=1e-9)
    np.testing.assert_allclose(np.nan_to_num(north), want_n, atol=1e-9)
    assert np.isnan(east[:, -1]).all() and np.isnan(north[-1, :]).all()


def test_layers_accuracy_and_energy_come_from_the_run():
    rep = collect("default", "loihi2", samples=20, calibration=10)
    data = api.resolve_data(None, "default", api.load("default"))
    cal = data.take(10)
    scored = api.Dataset({k: v[10:30] for k, v in data.inputs.items()}, data.labels[10:30])
    run = api.run(api.compile("default", "loihi2", calibration=cal).program, scored)
    assert rep.accuracy_chip == run.accuracy
    assert rep.accuracy_float == api.evaluate(api.load("default"), scored).accuracy
    assert rep.energy == pytest.approx(run.estimate.energy) and rep.latency == pytest.approx(run.estimate.latency)
    assert sum(rep.breakdown.values()) == pytest.approx(rep.energy)
    by_name = {x.name: x for x in rep.layers}
    for name, rate in run.result.rates.items():
        assert by_name[name].rate_chip == pytest.approx(rate)
        assert by_name[name].max_weight_error is not None and by_name[name].max_weight_error < 0.05
    assert all(c.source for c in rep.constants.values())


def test_bad_requests_are_refused_before_work(tmp_path):
    with pytest.raises(OutputError):
        chip_report("default", "loihi2", tmp_path / "missing" / "r.html")
    with pytest.raises(SimulationError, match="calibration"):
        collect("default", "loihi2", samples=5, calibration=-1)
    with pytest.raises(SimulationError, match="calibration"):
        collect("default", "loihi2", calibration=10_000)
