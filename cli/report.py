"""``spikec report``: one model on one chip as an HTML page that opens offline."""

from __future__ import annotations

import argparse

from rich.console import Console

from .. import api, report
from .common import Command, model_args, option_args, options


def _report_args(p: argparse.ArgumentParser) -> None:
    model_args(p)
    p.add_argument("--target", choices=api.target_names(), required=True, help="chip to compile for")
    p.add_argument("--data", default=None, help="npz with 'spikes' and optional 'labels' (default: the bundled test "
                                                "digits for 'default')")
    p.add_argument("--samples", type=int, default=None, help="run only N samples (after the calibration ones)")
    p.add_argument("--calibration", type=int, default=0,
                   help="the first N samples choose the quantization scales; the report runs the ones after them")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write")
    option_args(p)


def _report(args: argparse.Namespace, console: Console) -> int:
    path, rep = report.chip_report(args.model, args.target, args.output, args.data, options=options(args),
                                   samples=args.samples, calibration=args.calibration)
    acc = "-" if rep.accuracy_chip is None else f"{rep.accuracy_chip * 100:.1f}%"
    console.print(f"{rep.title}: {rep.n_cores} cores, {rep.energy * 1e6:.4g} uJ and {rep.latency * 1e3:.4g} ms per "
                  f"sample, accuracy {acc} on {rep.samples} samples")
    console.print(f"report: {path}")
    return 0


COMMANDS: dict[str, Command] = {
    "report": ("write an HTML report of a model on a chip: core mesh heat maps, spike rates, quantization error, "
               "energy with sources, accuracy", _report_args, _report),
}
