"""Co-design exploration (``spikec explore``): search target and compiler knobs for the best
trade-offs of accuracy, energy, latency and size, with Optuna's NSGA-II, on a local process
pool or as Ray tasks on a cluster.

- :mod:`.space`: the search space, read from TOML and checked against each target's knobs;
- :mod:`.objectives`: one trial (compile, run on the emulator, price);
- :mod:`.runners`: where trials run (this process, a process pool, Ray);
- :mod:`.study`: the Optuna studies in a journal file, driven generation by generation;
- :mod:`.pareto`, :mod:`.results`: the front and the results table (CSV, Parquet);
- :mod:`.cluster`: a Ray cluster on this machine (head + worker nodes), for trying ``--ray``.
"""

from .objectives import METRICS, Outcome, Problem, evaluate
from .pareto import pareto_mask
from .results import table, write_table
from .runners import InProcess, Job, LocalPool, RayRunner, Runner, make_runner
from .space import OBJECTIVES, Param, Space, TargetSpace, load_space, parse_space
from .study import ExploreResult, TrialRow, explore

__all__ = [
    "explore", "ExploreResult", "TrialRow", "load_space", "parse_space", "Space", "TargetSpace", "Param",
    "OBJECTIVES", "METRICS", "Problem", "Outcome", "evaluate", "Runner", "Job", "InProcess", "LocalPool", "RayRunner",
    "make_runner", "pareto_mask", "table", "write_table",
]
