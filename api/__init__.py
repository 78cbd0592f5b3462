"""The Python API: everything the CLI does is one call here (the CLI only parses and prints).

- models and data (:mod:`.models`): ``load`` (``"default"`` is the bundled model), ``load_dataset``,
  ``evaluate`` in the reference simulator;
- chips (:mod:`.chips`): ``compile``, ``run``, ``estimate``, ``compare``, ``list_targets``;
- ``describe`` (:mod:`.describe`): what ``spikec info`` shows;
- results as files (:mod:`.results`): ``check_output``, ``save_evaluation``, ``save_run``.
"""

from ..compiler.pipeline import Compiled
from ..ir.readout import decode_rate
from ..runtime.program import Program, load_program, save_program
from .chips import (
                    Comparison,
                    EstimateReport,
                    RunReport,
                    compare,
                    compile,
                    estimate,
                    get_target,
                    list_passes,
                    list_targets,
                    resolve_data,
                    run,
                    target_names,
)
from .describe import ModelSummary, NodeRow, describe
from .models import (
                     DEFAULT_MODEL,
                     Dataset,
                     Evaluation,
                     bundled_data,
                     bundled_model,
                     evaluate,
                     load,
                     load_dataset,
                     poisson_dataset,
                     source_names,
)
from .results import check_output, save_evaluation, save_run

__all__ = [
    "DEFAULT_MODEL", "load", "source_names", "bundled_model", "bundled_data", "Dataset", "load_dataset",
    "poisson_dataset",
    "decode_rate", "check_output", "save_evaluation", "save_run",
    "Evaluation", "evaluate", "describe", "ModelSummary", "NodeRow",
    "compile", "run", "estimate", "compare", "list_targets", "list_passes", "get_target", "target_names",
    "resolve_data",
    "Compiled", "RunReport", "EstimateReport", "Comparison", "Program", "save_program", "load_program",
]
