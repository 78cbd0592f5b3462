"""Export a program compiled for sfq as its SFQ netlist:

    python -m spikec.targets.sfq P.npz [--json netlist.json] [--cells 20]

prints the readable cell listing (totals by cell kind, critical path, clock, the first cells) and
writes the whole netlist as JSON (format ``spikec-sfq-netlist/1``) where ``--json`` says."""

from __future__ import annotations

import argparse
import sys

from ...errors import SpikecError
from ...runtime.program import load_program
from .backend import program_options
from .netlist import lower_netlist


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spikec.targets.sfq", description=__doc__.splitlines()[0])
    ap.add_argument("program", help="a program compiled for sfq (spikec compile --target sfq --output P.npz)")
    ap.add_argument("--json", default=None, help="write the netlist as JSON here")
    ap.add_argument("--cells", type=int, default=20, help="cells to list")
    args = ap.parse_args(argv)
    try:
        program = load_program(args.program)
        if program.metadata.get("target") != "sfq":
            raise SpikecError(f"{args.program} is compiled for {program.metadata.get('target', 'no target')}",
                              parameter="program", fix="compile it with --target sfq")
        netlist = lower_netlist(program, program_options(program))
        print(netlist.listing(limit=max(0, args.cells)))
        if args.json:
            with open(args.json, "w") as f:
                f.write(netlist.to_json())
            print(f"netlist written to {args.json}")
    except (SpikecError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
