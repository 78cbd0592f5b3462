"""spikec.runtime: the Program format, the cffi binding of the C engine, its counters and cost model."""

from .counters import COUNTERS, Counters
from .engine import Result, run
from .program import Population, Program, Projection, load_program, save_program

__all__ = ["Program", "Population", "Projection", "save_program", "load_program", "run", "Result", "Counters",
           "COUNTERS"]
