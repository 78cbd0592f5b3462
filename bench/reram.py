"""The ReRAM crossbar target against its non-idealities, and beside Loihi 2 and SpiNNaker2.

    .venv/bin/python bench/reram.py [--samples 300] [--skip-lsm]

Two networks: the bundled digits model (64-128-10 LIF, 360 test samples) and a 300-neuron
liquid state machine on the N-MNIST-style digits events (spikec.lsm, logistic readout; its
reservoir's projections run as crossbars too).  Printed: accuracy and energy per inference
against ADC bits (2-8, at full range and at a quarter of it), programming-noise scale (0-3x),
IR drop (off, and on at 0.15 / 1 / 5 Ohm per cell), stuck-at fraction (0-5 %); then the same
networks' energy and latency on loihi2 and spinnaker2; then the IR-drop solver's size and speed
and the error of the effective-conductance model the compiled program uses.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from spikec.errors import SpikecError

IDEAL_ADC = {"adc_bits": 24}
SWEEPS = [
    ("ADC bits (full range)", [({"adc_bits": b}, f"{b}") for b in range(2, 9)]),
    ("ADC bits (range 0.25)", [({"adc_bits": b, "adc_range": 0.25}, f"{b}") for b in range(2, 9)]),
    ("programming noise x", [({"noise_scale": s}, f"{s:g}") for s in (0.0, 0.5, 1.0, 2.0, 3.0)]),
    ("IR drop", [({}, "off")] + [({"ir_drop": True, "wire_ohm": r}, f"{r:g} Ohm") for r in (0.15, 1.0, 5.0)]),
    ("stuck-at fraction", [({"stuck_fraction": f}, f"{f:.0%}") for f in (0.0, 0.01, 0.02, 0.05)]),
]


def digits_point(options: dict) -> tuple[float, float, float]:
    import spikec
    from spikec.targets import get_target

    graph = spikec.load("default")
    data = spikec.load_dataset(spikec.bundled_data(), graph)
    target = get_target("reram")
    report = spikec.run(graph, data, target=target, options=options)
    est = target.price(report.result.counters, target.compile(graph, options).program)
    return report.accuracy, est.energy, est.latency


def lsm_point(options: dict | None, samples: int, target: str = "reram") -> tuple[float, float, float]:
    from spikec.lsm import run_lsm

    r = run_lsm("digits", samples=samples, target=target, options=options, seed=0)
    return r.accuracy, r.energy, r.latency


def sweep(name: str, point) -> None:
    print(f"\n== {name}: accuracy / energy per inference (nJ) / latency (us)")
    for title, points in SWEEPS:
        row = []
        for opts, label in points:
            try:
                acc, energy, latency = point(opts)
            except SpikecError as exc:   # e.g. an LSM whose coarse ADC leaves it nothing to tune
                row.append(f"{label}: fails ({exc.parameter})")
                continue
            row.append(f"{label}: {acc:.3f} / {energy * 1e9:.3g} / {latency * 1e6:.3g}")
        print(f"  {title:<22} " + "; ".join(row))


def beside(samples: int, skip_lsm: bool) -> None:
    import spikec
    from spikec.targets import get_target

    graph = spikec.load("default")
    data = spikec.load_dataset(spikec.bundled_data(), graph)
    print("\n== the same networks on other targets: accuracy, energy per inference, latency")
    for name in ("reram", "loihi2", "spinnaker2"):
        target = get_target(name)
        report = spikec.run(graph, data, target=target)
        est = target.price(report.result.counters, target.compile(graph).program)
        line = (f"  {name:<11} digits model: {report.accuracy:.3f}, {est.energy * 1e9:10.4g} nJ, "
                f"{est.latency * 1e6:9.4g} us")
        if not skip_lsm:
            acc, energy, latency = lsm_point(None, samples, name)
            line += f" | LSM: {acc:.3f}, {energy * 1e9:10.4g} nJ, {latency * 1e6:9.4g} us"
        print(line + (f"  (missing: {', '.join(est.missing)})" if est.missing else ""))


def ir_drop_solver() -> None:
    from spikec.targets.reram.crossbar import approximation_error, pair, solve
    from spikec.targets.reram.spec import RERAM_CHIP as chip

    print("\n== IR-drop nodal solve (scipy.sparse splu), all rows at 0.5 V, Ron 100k / Roff 1.7M, 1 Ohm")
    rng = np.random.default_rng(0)
    for n in (64, 128, 256, 512):
        g = 1.0 / np.where(rng.random((n, n)) < 0.5, chip.r_on.value, chip.r_off.value)
        t0 = time.perf_counter()
        out, _ = solve(g, np.full(n, 0.5), 1.0)
        dt = time.perf_counter() - t0
        deficit = 1 - out.sum() / (0.5 * g.sum())
        print(f"  {n:4d} x {n:<4d} ({2 * n * n:7d} unknowns): {dt:7.3f} s, column-current deficit {deficit:.2%}")
    print("  effective-conductance model vs exact, 128 x 128, max column error / largest ideal column current:")
    w = rng.integers(-15, 16, (128, 128))
    g_pos, _ = pair(w, levels=16, g_min=chip.g_min, g_max=chip.g_max)
    for r in (0.15, 1.0, 5.0):
        errs = [approximation_error(g_pos, 0.5, r, active=a, trials=20, rng=rng) for a in (0.05, 0.2, 0.5)]
        print(f"    {r:4g} Ohm: active rows 5 % {errs[0]:.2e}, 20 % {errs[1]:.2e}, 50 % {errs[2]:.2e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=300, help="LSM event samples (30 %% of them test)")
    ap.add_argument("--skip-lsm", action="store_true", help="only the bundled digits model")
    args = ap.parse_args()
    t0 = time.perf_counter()
    sweep("bundled digits model on reram (defaults: wan2022, 9-bit ADC, 1 % read noise)", digits_point)
    if not args.skip_lsm:
        sweep(f"300-neuron LSM on digits events ({args.samples} samples) on reram",
              lambda opts: lsm_point(opts, args.samples))
    beside(args.samples, args.skip_lsm)
    ir_drop_solver()
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
