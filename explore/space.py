"""A search space, read from a TOML file and checked against the targets' own knobs.

::

    [study]
    name = "digits"                 # the study's name in the journal (default: the file's stem)
    trials = 24                     # per target
    batch = 8                       # trials per generation (NSGA-II's population), evaluated in parallel
    seed = 0
    objectives = ["accuracy", "energy", "latency"]   # of OBJECTIVES

    [data]
    samples = 100                   # samples each trial is scored on
    calibration = 20                # samples before them that choose the quantization scales (0: none)

    [constraints]
    real_time = true                # a sample's latency on the chip <= its duration in the model

    [compiler]                      # knobs every listed target takes
    weight_bits = { low = 4, high = 8 }

    [targets.spinnaker2]            # knobs of one target (they win over [compiler])
    neurons_per_pe = { low = 16, high = 256, log = true }
    per_channel = [false, true]     # a list: these choices
    chips = 1                       # a plain value: fixed, not searched

Every knob must be one the target declares (``spikec targets``) and every range must lie inside
the knob's declared range: a space that asks for 12-bit weights on Loihi 2 is refused when it is
read, naming the target, the knob and the range, not after an hour of failed trials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import tomllib

from ..api import get_target
from ..errors import SpecError
from ..targets.options import OptionInfo

__all__ = ["OBJECTIVES", "Param", "TargetSpace", "Space", "load_space", "parse_space"]

#: Objective -> the direction it is optimised in.  "cores" and "chips" stand in for area and
#: cost: no target publishes a die area per core that the whole set could be compared on.
OBJECTIVES: dict[str, str] = {"accuracy": "maximize", "energy": "minimize", "latency": "minimize",
                              "cores": "minimize", "chips": "minimize"}
_SECTIONS = {"study", "data", "constraints", "compiler", "targets"}
_STUDY_KEYS = {"name", "trials", "batch", "seed", "objectives"}
_DATA_KEYS = {"samples", "calibration"}
_CONSTRAINT_KEYS = {"real_time"}
_RANGE_KEYS = {"low", "high", "step", "log"}


@dataclass(frozen=True)
class Param:
    """One knob of one target: searched over ``[low, high]`` (``kind`` "int" or "float", on a
    log scale when ``log``), over ``choices`` (kind "choice"), or held at ``value`` (kind "fixed")."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    step: int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    value: Any = None

    @property
    def searched(self) -> bool:
        return self.kind != "fixed"


@dataclass(frozen=True)
class TargetSpace:
    """The knobs of one target, searched and fixed."""

    target: str
    params: tuple[Param, ...]

    @property
    def searched(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.searched)

    @property
    def fixed(self) -> dict[str, Any]:
        return {p.name: p.value for p in self.params if not p.searched}


@dataclass(frozen=True)
class Space:
    """A whole study: its targets' spaces, objectives, constraints and data sizes."""

    name: str
    targets: tuple[TargetSpace, ...]
    objectives: tuple[str, ...] = ("accuracy", "energy", "latency")
    trials: int = 24
    batch: int = 8
    seed: int = 0
    samples: int = 100
    calibration: int = 20
    real_time: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def directions(self) -> tuple[str, ...]:
        return tuple(OBJECTIVES[o] for o in self.objectives)

    def target(self, name: str) -> TargetSpace:
        for t in self.targets:
            if t.target == name:
                return t
        raise SpecError(f"the space has no target {name!r}", parameter="--targets",
                        fix=f"use some of {[t.target for t in self.targets]}")

    def fingerprint(self) -> str:
        """What must not change when a stopped study resumes (a changed space would mix two studies)."""
        return repr((self.targets, self.objectives, self.batch, self.seed, self.samples, self.calibration,
                     self.real_time))


def load_space(path: str | Path, targets: list[str] | None = None) -> Space:
    """Read and check the space in the TOML file ``path``; ``targets`` (``--targets``) picks
    targets from it, and may name targets it lists only [compiler] knobs for."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"no space file {str(p)!r}", parameter="--space",
                        fix="give the path of a .toml space file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{str(p)!r} is not valid TOML: {exc}", parameter="--space",
                        fix="see `spikec explore --help` for the format") from None
    return parse_space(raw, default_name=p.stem, targets=targets)


def parse_space(raw: Mapping[str, Any], *, default_name: str = "explore", targets: list[str] | None = None) -> Space:
    """A :class:`Space` from the TOML tables ``raw`` (see the module docstring)."""
    _only(raw, _SECTIONS, "the space file")
    study = _table(raw, "study")
    data = _table(raw, "data")
    constraints = _table(raw, "constraints")
    _only(study, _STUDY_KEYS, "[study]")
    _only(data, _DATA_KEYS, "[data]")
    _only(constraints, _CONSTRAINT_KEYS, "[constraints]")
    compiler = _table(raw, "compiler")
    per_target = _table(raw, "targets")
    names = list(targets) if targets else list(per_target)
    if not names:
        raise SpecError("the space names no target", parameter="--targets",
                        fix="add a [targets.NAME] table, or pass --targets loihi2,spinnaker2")
    if len(set(names)) != len(names):
        raise SpecError(f"targets {names} name one target twice", parameter="--targets", fix="name each once")
    spaces = []
    for name in names:
        own = per_target.get(name, {})
        if not isinstance(own, Mapping):
            raise SpecError(f"[targets.{name}] must be a table of knobs", parameter=f"targets.{name}")
        spaces.append(_target_space(name, {**compiler, **own}, set(own)))
    if len(spaces) == 1 and not any(p.searched for p in spaces[0].params):
        # Every trial would be the same compile and run: nothing to search.
        raise SpecError(f"the space varies nothing: target {names[0]} has no knob with a range or choices",
                        parameter="--space",
                        fix=f"give a knob of {names[0]} a range (weight_bits = {{ low = 4, high = 8 }}) or a list of "
                            "choices, or name a second target to compare (see `spikec targets`)")
    objectives = study.get("objectives", ["accuracy", "energy", "latency"])
    if not isinstance(objectives, list) or not objectives or any(o not in OBJECTIVES for o in objectives) \
            or len(set(objectives)) != len(objectives):
        raise SpecError(f"objectives {objectives!r}", parameter="study.objectives",
                        fix=f"a list of distinct names from {list(OBJECTIVES)}")
    batch = _whole(study, "batch", 8, low=2, where="study")   # NSGA-II needs two parents
    space = Space(
        name=str(study.get("name", default_name)), targets=tuple(spaces), objectives=tuple(objectives),
        trials=_whole(study, "trials", 24, low=1, where="study"), batch=batch,
        seed=_whole(study, "seed", 0, low=0, where="study"),
        samples=_whole(data, "samples", 100, low=1, where="data"),
        calibration=_whole(data, "calibration", 20, low=0, where="data"),
        real_time=_flag(constraints, "real_time"), raw=dict(raw))
    if not space.name or any(c in space.name for c in ":/\n"):
        raise SpecError(f"study name {space.name!r}", parameter="study.name", fix="letters, digits, '-' and '_'")
    return space


def _target_space(name: str, table: Mapping[str, Any], own: set[str]) -> TargetSpace:
    infos = {i.name: i for i in get_target(name).options.describe()}
    params = []
    for knob, spec in table.items():
        where = f"targets.{name}.{knob}" if knob in own else f"compiler.{knob}"
        if knob not in infos:
            fix = (f"{name} takes {', '.join(infos)} (see `spikec targets`)" if knob in own else
                   f"move {knob} from [compiler] to the [targets.X] tables of the targets that take it")
            raise SpecError(f"target {name} has no knob '{knob}'", parameter=where, fix=fix)
        params.append(_param(knob, spec, infos[knob], name, where))
    return TargetSpace(name, tuple(params))


def _param(knob: str, spec: Any, info: OptionInfo, target: str, where: str) -> Param:
    allowed = f"{target}'s {knob} takes {info.allowed()}"
    if isinstance(spec, list):
        if not spec or len(set(map(repr, spec))) != len(spec):
            raise SpecError(f"choices {spec!r}", parameter=where, fix="a list of distinct values")
        for value in spec:
            _inside(value, info, where, allowed)
        return Param(knob, "choice", choices=tuple(spec)) if len(spec) > 1 else Param(knob, "fixed", value=spec[0])
    if isinstance(spec, Mapping):
        if info.type not in ("int", "float") or info.choices is not None:
            raise SpecError(f"a range for a {info.type} knob", parameter=where, limit=allowed,
                            fix="give a list of choices")
        _only(spec, _RANGE_KEYS, where)
        if "low" not in spec or "high" not in spec:
            raise SpecError("a range needs low and high", parameter=where, limit=allowed)
        low, high = spec["low"], spec["high"]
        _inside(low, info, where, allowed)
        _inside(high, info, where, allowed)
        log = _flag(spec, "log", where)
        if not low < high:
            raise SpecError(f"low {low!r} >= high {high!r}", parameter=where, fix="give low < high, or a plain value")
        if log and low <= 0:
            raise SpecError(f"a log range from {low!r}", parameter=where, fix="a log range starts above 0")
        step = spec.get("step")
        if step is not None and (info.type != "int" or isinstance(step, bool) or not isinstance(step, int)
                                 or step < 1 or log):
            raise SpecError(f"step {step!r}", parameter=where, fix="a whole step >= 1, for a linear int range")
        return Param(knob, info.type, low=low, high=high, step=step, log=log)
    _inside(spec, info, where, allowed)
    return Param(knob, "fixed", value=spec)


def _inside(value: Any, info: OptionInfo, where: str, allowed: str) -> None:
    ok = {"bool": lambda v: isinstance(v, bool), "str": lambda v: isinstance(v, str),
          "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}[info.type]
    if not ok(value) or (info.choices is not None and value not in info.choices) or (
            info.type in ("int", "float") and ((info.low is not None and value < info.low)
                                               or (info.high is not None and value > info.high))):
        raise SpecError(f"{value!r} is outside the knob's range", parameter=where, limit=allowed,
                        fix=f"keep the space inside it ({info.source})")


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise SpecError(f"[{key}] must be a table", parameter=key)
    return value


def _only(table: Mapping[str, Any], keys: set[str], where: str) -> None:
    extra = sorted(set(table) - keys)
    if extra:
        raise SpecError(f"{where} has unknown key(s) {extra}", parameter=where, fix=f"use {sorted(keys)}")


def _whole(table: Mapping[str, Any], key: str, default: int, *, low: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(f"{key} = {value!r}", parameter=f"{where}.{key}", fix=f"a whole number >= {low}")
    return value


def _flag(table: Mapping[str, Any], key: str, where: str = "constraints") -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise SpecError(f"{key} = {value!r}", parameter=f"{where}.{key}", fix="true or false")
    return value
