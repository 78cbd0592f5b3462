"""``spikec explore``: search target and compiler knobs for the Pareto front of accuracy, energy
and latency (Optuna NSGA-II, a local process pool or a Ray cluster)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .. import explore as ex
from .. import report
from .common import Command, check_outputs, model_args, row


def _explore_args(p: argparse.ArgumentParser) -> None:
    model_args(p)
    p.add_argument("--space", required=True, help="the search space (.toml): knobs per target with ranges, "
                                                  "objectives, constraints, trials (README, 'Exploring')")
    p.add_argument("--data", default=None, help="npz with 'spikes' and 'labels' (default: the bundled test digits "
                                                "for 'default')")
    p.add_argument("--targets", default=None, metavar="T[,T]",
                   help="targets to search (default: those the space lists under [targets])")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per CPU)")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="run the trials as Ray tasks on the cluster at ADDRESS (HOST:PORT from `ray start "
                        "--head`; 'auto' on a node of the cluster; 'local' for a throw-away one)")
    p.add_argument("--journal", default=None, help="Optuna journal file holding the study (default: NAME.journal, "
                                                   "NAME from [study] name); rerun with it to resume")
    p.add_argument("--table", default=None, help="results table, .csv or .parquet (default: NAME.csv)")
    p.add_argument("-o", "--output", default=None, help="also write the study's HTML report (Pareto plots)")


def _explore(args: argparse.Namespace, console: Console) -> int:
    try:
        import optuna

        # Optuna logs every trial at INFO; the progress bar and the final table say it better.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        pass   # explore() says what to install
    targets = [t.strip() for t in args.targets.split(",") if t.strip()] if args.targets else None
    space = ex.load_space(args.space, targets)
    journal = args.journal or f"{space.name}.journal"
    table_path = args.table or f"{space.name}.csv"
    check_outputs(("--journal", journal), ("--table", table_path), ("--output", args.output))
    runner = ex.make_runner(args.workers, args.ray)
    total = space.trials * len(space.targets)
    console.print(f"exploring {', '.join(t.target for t in space.targets)}: {space.trials} trials each in generations "
                  f"of {space.batch}, objectives {', '.join(space.objectives)}, on {runner.title}")
    with Progress(TextColumn("trials"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                  transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("trials", total=total)
        try:
            result = ex.explore(args.model, space, runner, journal=journal, data=args.data,
                                on_trial=lambda _row, done, _total: bar.update(task, completed=done))
        except KeyboardInterrupt:
            bar.stop()
            console.print(f"stopped: the trials told so far are in {journal}; run the same command again to resume")
            return 130
        finally:
            runner.close()
    _print_front(result, console)
    ex.write_table(result, table_path)
    rate = f" ({result.ran / result.seconds * 60:.0f} trials/min)" if result.ran and result.seconds else ""
    console.print(f"{result.ran} trials run now{rate}, {len(result.rows) - result.ran} resumed from the journal, on "
                  f"{result.runner}")
    console.print(f"table: {table_path}   journal: {journal}")
    if args.output:
        report.explore_report(ex.table(result), space.objectives, args.output,
                              title=f"spikec explore: {args.model}, study {space.name}", runner=result.runner)
        console.print(f"report: {args.output}")
    return 0


def _print_front(result: ex.ExploreResult, console: Console) -> None:
    overall = len(result.front())
    for ts in result.space.targets:
        front = result.front(ts.target)
        table = Table(title=f"{ts.target}: its Pareto front ({len(front)} configurations; * also on the front over "
                            f"every target, {overall} in all)", title_justify="left")
        for col in ("trial", "knobs", "accuracy", "energy uJ", "latency ms", "cores", "chips", "*"):
            table.add_column(col, justify="left" if col == "knobs" else "right")
        for r in front:
            m = r.metrics
            row(table, str(r.number), ", ".join(f"{k}={_short(v)}" for k, v in r.options.items()),
                f"{m['accuracy'] * 100:.1f}%", f"{m['energy'] * 1e6:.4g}", f"{m['latency'] * 1e3:.4g}",
                f"{m['cores']:.0f}", f"{m['chips']:.0f}", "*" if r.pareto else "")
        console.print(table)
    failed = [r for r in result.rows if r.state != "ok"]
    if failed:
        console.print(f"{len(failed)} configuration(s) did not build, e.g. {failed[0].target}#{failed[0].number}: "
                      f"{failed[0].error}")


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


COMMANDS: dict[str, Command] = {
    "explore": ("search chip and compiler knobs for the Pareto front of accuracy, energy and latency (Optuna; "
                "local pool or Ray)", _explore_args, _explore),
}
