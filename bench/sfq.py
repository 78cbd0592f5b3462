"""SFQ target benchmark: the bundled digits model compiled to SFQ, run pulse by pulse.

    .venv/bin/python bench/sfq.py [--samples 360] [--threads 2] [--lsm-samples 300] [--json out.json]

Prints accuracy against the float model, then one row per configuration: merger window (0 =
ideal cells, PyLSE's 8.2 ps, with the time-division stagger on and off), stochastic synapses on
and off, and bias levels 2, 4, 8, 16; with junctions, merger collisions per sample, clock, energy
per sample at 4 K and at the wall, and latency; then loihi2 and spinnaker2 on the same samples.
Then the deep XOR case study's classification margin against bias levels and stochasticity, and
an LSM (spikec.lsm) on the digits event data: one reservoir's states on SFQ against the float LSM.
"""

from __future__ import annotations

import argparse
import json
import time

import spikec
from spikec import lsm
from spikec.api import Dataset
from spikec.targets import get_target
from spikec.targets.sfq import split_energy
from spikec.targets.sfq.xor import deep_xor, xor_inputs, xor_margin

CONFIGS = [("ideal cells (window 0)", {"merger_window_ps": 0.0})]
CONFIGS += [(f"window {w:g} ps, stagger", {"merger_window_ps": w}) for w in (2.0, 4.1, 8.2)]
CONFIGS += [(f"window {w:g} ps, no stagger", {"merger_window_ps": w, "stagger": False}) for w in (2.0, 4.1, 8.2)]
CONFIGS += [("stochastic, ideal cells", {"stochastic": True, "merger_window_ps": 0.0}),
            ("stochastic, window 8.2 ps, stagger", {"stochastic": True})]
CONFIGS += [(f"{n} bias levels{', stochastic' if st else ''}", {"bias_levels": n, "stochastic": st})
            for n in (2, 4, 8) for st in (False, True)]

def digits(samples: int, threads: int) -> list[dict]:
    graph = spikec.load("default")
    data = spikec.load_dataset(spikec.bundled_data(), graph).take(samples)
    rows = []
    ref = spikec.run(graph, data, options={"arithmetic": "float"}, threads=threads)
    rows.append({"config": "float model (C engine, float)", "accuracy": ref.accuracy})
    sfq = get_target("sfq")
    for label, opts in CONFIGS:
        t0 = time.perf_counter()
        report = spikec.run(graph, data, target=sfq, options=opts, threads=threads)
        e = split_energy(report.estimate)
        meta = report.program.metadata["sfq"]
        totals = report.result.counters.sfq_totals()
        rows.append({"config": label, "accuracy": report.accuracy, "jj": meta["jj_total"],
                     "collisions": totals["collisions"] / data.samples, "clock_ghz": meta["clock_ghz"],
                     "e_4k_j": e["at_4k"], "e_wall_j": e["wall"], "latency_s": report.estimate.latency,
                     "wall_s": time.perf_counter() - t0})
    for name in ("loihi2", "spinnaker2"):
        report = spikec.run(graph, data, target=name, threads=threads)
        rows.append({"config": name, "accuracy": report.accuracy, "e_wall_j": report.estimate.energy,
                     "latency_s": report.estimate.latency})
    return rows


def xor_table() -> list[dict]:
    graph = deep_xor()
    inputs, labels = xor_inputs(samples_per_pattern=8, steps=200)
    data = Dataset(inputs, labels, "deep XOR, rate 0.5")
    rows = [{"config": "float", **_margin(spikec.run(graph, data).result.output, labels)}]
    for levels in (2, 4, 8, 16):
        for stochastic in (False, True):
            out = spikec.run(graph, data, target="sfq", options={"bias_levels": levels, "stochastic": stochastic})
            rows.append({"config": f"{levels} levels{', stochastic' if stochastic else ''}",
                         **_margin(out.result.output, labels)})
    return rows


def lsm_table(samples: int, neurons: int, threads: int) -> list[dict]:
    """One reservoir (tuned to branching factor 1 on the float model), its states on the float
    C engine and on SFQ, one logistic readout each; accuracy on the held-out 30 %."""
    events = lsm.digits_events(samples, steps=30)
    reservoir = lsm.build_reservoir(events.events.shape[2], neurons, seed=0)
    reservoir = lsm.tune_branching(reservoir, events.events[:100], target=1.0, tolerance=0.1).reservoir
    n_train = int(0.7 * samples)
    rows = []
    for label, target, opts in (("float LSM (C engine)", None, {"arithmetic": "float"}),
                                ("SFQ, ideal cells", "sfq", {"merger_window_ps": 0.0}),
                                ("SFQ, window 8.2 ps, stagger", "sfq", None),
                                ("SFQ, stochastic, 8 levels", "sfq", {"stochastic": True, "bias_levels": 8})):
        run = lsm.run_reservoir(reservoir, events.events, target=target, options=opts)
        x = lsm.state_features(run.spikes, bins=3)
        readout = lsm.train_readout(x[:n_train], events.labels[:n_train], seed=0)
        priced = target is not None   # the float engine run is an ideal chip, priced by no SFQ constant
        rows.append({"config": label, "accuracy": readout.accuracy(x[n_train:], events.labels[n_train:]),
                     "e_wall_j": run.energy if priced else None, "latency_s": run.latency if priced else None,
                     "rate": float(run.spikes.mean())})
    return rows


def _margin(output, labels) -> dict:
    m = xor_margin(output, labels)
    return {"margin": m.margin, "accuracy": m.accuracy}


def _fmt(v: object, scale: float = 1.0, spec: str = ".3g") -> str:
    return "-" if v is None else format(v * scale, spec)  # type: ignore[operator]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=360)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lsm-samples", type=int, default=300)
    ap.add_argument("--lsm-neurons", type=int, default=200)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = digits(args.samples, args.threads)
    print(f"digits, {args.samples} test samples")
    print(f"{'configuration':<36} {'acc %':>6} {'JJ':>8} {'coll/sample':>11} {'GHz':>6} {'E 4K nJ':>9} "
          f"{'E wall uJ':>10} {'latency ns':>11}")
    for r in rows:
        print(f"{r['config']:<36} {_fmt(r['accuracy'], 100, '.1f'):>6} {_fmt(r.get('jj'), 1, 'd'):>8} "
              f"{_fmt(r.get('collisions'), 1, '.0f'):>11} {_fmt(r.get('clock_ghz'), 1, '.2f'):>6} "
              f"{_fmt(r.get('e_4k_j'), 1e9):>9} {_fmt(r.get('e_wall_j'), 1e6):>10} {_fmt(r.get('latency_s'), 1e9):>11}")
    xor = xor_table()
    print("\ndeep XOR (Edwards et al. 2024), 8 samples per pattern, 200 periods")
    for r in xor:
        print(f"  {r['config']:<24} margin {r['margin']:+.3f} pulses/period  accuracy {r['accuracy']:.0%}")
    lsm_rows = lsm_table(args.lsm_samples, args.lsm_neurons, args.threads)
    print(f"\nLSM on digits events ({args.lsm_samples} samples, {args.lsm_neurons} neurons, one tuned reservoir)")
    for r in lsm_rows:
        print(f"  {r['config']:<30} accuracy {r['accuracy']:.1%}  rate {r['rate']:.3f}  energy at the wall "
              f"{_fmt(r['e_wall_j'], 1e6)} uJ  latency {_fmt(r['latency_s'], 1e9)} ns")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"digits": rows, "xor": xor, "lsm": lsm_rows}, f, indent=1)


if __name__ == "__main__":
    main()
