"""A target's options: every co-design knob it accepts, with default, unit, range and source.

A target declares a frozen dataclass deriving from :class:`Options`, one field per knob made with
:func:`option`; the base class holds the compiler's own knobs (weight width, per-channel scales,
arithmetic) that every target takes.  A subclass narrows a knob by declaring it again (Loihi 2's
``weight_bits`` stops at 8).  Values are checked on construction (an unknown knob or a value out
of range is an :class:`~spikec.errors.UnsupportedError` naming the target, the knob and the
allowed range), so an options object that exists is valid for its target; the CLI's flags,
``spikec targets`` and the API's ``options=`` all read the same fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from ..errors import SpecError, UnsupportedError
from ..hardware import Sourced

__all__ = ["Options", "OptionInfo", "option", "weight_bits_option"]

_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


@dataclass(frozen=True)
class OptionInfo:
    """What ``spikec targets`` prints of one knob, and what the CLI builds its flag from."""

    name: str
    type: str                      # "int", "float", "bool" or "str"
    default: Any                   # None: "the chip's own value" (the spec decides)
    unit: str
    low: float | None
    high: float | None
    choices: tuple[Any, ...] | None
    source: str
    help: str
    none_means: str = "chip's"     # what a default of None stands for, as `spikec targets` shows it

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if self.type == "bool":
            return "true or false"
        if self.type == "str":
            return "text"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{self.type} in [{lo}, {hi}]" + (f" {self.unit}" if self.unit else "")


def option(default: Any, *, type: str, unit: str = "", low: float | None = None, high: float | None = None,
           choices: tuple[Any, ...] | None = None, source: str, help: str, none_means: str = "chip's") -> Any:
    """A field of an :class:`Options` dataclass; ``default=None`` means the chip's own value
    (``none_means`` says otherwise for ``spikec targets``)."""
    if type not in _TYPES:
        raise SpecError(f"option type {type!r}", parameter="type", fix=f"use one of {sorted(_TYPES)}")
    if not source:
        raise SpecError("every option needs a source (a publication, or why spikec chose it)", parameter="source")
    meta = {"type": type, "unit": unit, "low": low, "high": high, "choices": choices, "source": source, "help": help,
            "none_means": none_means}
    return dataclasses.field(default=default, metadata={"spikec": meta})


def weight_bits_option(widest: Sourced) -> Any:
    """The compiler's ``weight_bits`` knob narrowed to a chip's widest weight, with its source
    (a target declares ``weight_bits: int | None = weight_bits_option(SPEC.weight_bits)``)."""
    return option(None, type="int", unit="bits", low=1, high=widest.value, source=widest.source,
                  help=f"signed weight width to quantize to (default: {widest.value})")


@dataclass(frozen=True)
class Options:
    """The compiler knobs every target takes; a target's options derive from this class."""

    target: ClassVar[str] = "?"    # set by each target's subclass; errors name it

    weight_bits: int | None = option(
        None, type="int", unit="bits", low=1, high=32,
        source="spikec: narrows the spec's weight_bits (a co-design what-if)",
        help="signed weight width to quantize to (default: the chip's)")
    per_channel: bool = option(
        False, type="bool", source="spikec: one quantization scale per neuron instead of per population",
        help="one quantization scale per neuron/channel")
    arithmetic: str = option(
        "fixed", type="str", choices=("fixed", "float"),
        source="spikec: 'float' keeps float neurons (an idealised chip, to see each pass's effect)",
        help="fixed: quantize to the chip's widths; float: keep float neurons")
    passes: str | None = option(
        None, type="str", unit="pass names",
        source="spikec: compiler/pipeline.py DEFAULT_PASSES (fold_batchnorm, fuse_linear, map_delays, "
        "quantize, lower, map)", help="comma-separated passes to run instead of the default list ('list' shows them)",
        none_means="default list")

    def __post_init__(self) -> None:
        for info in self.describe():
            value = getattr(self, info.name)
            if value is None and info.default is None:
                continue
            checked = _check(self.target, info, value)
            if checked is not value:
                object.__setattr__(self, info.name, checked)

    @classmethod
    def describe(cls) -> tuple[OptionInfo, ...]:
        """Every knob of this target, in declaration order."""
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("spikec")
            if meta is None:
                continue
            out.append(OptionInfo(f.name, meta["type"], f.default, meta["unit"], meta["low"], meta["high"],
                                  meta["choices"], meta["source"], meta["help"], meta["none_means"]))
        return tuple(out)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> "Options":
        """Options from ``{name: value}``; a value may be a string as typed on the command line.
        ``None`` values are left at their defaults; a name this target lacks is refused by name."""
        given = {k: v for k, v in (values or {}).items() if v is not None}
        known = {i.name: i for i in cls.describe()}
        for name in given:
            if name not in known:
                raise UnsupportedError(f"target {cls.target} has no option '{name}'", parameter=name,
                                fix=f"{cls.target} takes {', '.join(sorted(known))} (see `spikec targets`)")
        return cls(**{k: _parse(cls.target, known[k], v) for k, v in given.items()})

    def as_dict(self) -> dict[str, Any]:
        return {i.name: getattr(self, i.name) for i in self.describe()}

    def changed(self) -> dict[str, Any]:
        """The knobs set away from their defaults (what a report should mention)."""
        return {i.name: getattr(self, i.name) for i in self.describe() if getattr(self, i.name) != i.default}


def _parse(target: str, info: OptionInfo, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if info.type == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "1", "yes")
        return _TYPES[info.type](text)
    except ValueError:
        raise UnsupportedError(f"target {target}, option '{info.name}': cannot read {value!r} as {info.type}",
                        parameter=info.name, limit=info.allowed(), fix=f"give {info.flag} {info.allowed()}") from None


def _check(target: str, info: OptionInfo, value: Any) -> Any:
    def refuse(why: str) -> UnsupportedError:
        return UnsupportedError(f"target {target}, option '{info.name}' = {value!r}: {why}", parameter=info.name,
                         limit=info.allowed(), fix=f"give {info.flag} {info.allowed()} ({info.help})")

    expected = _TYPES[info.type]
    if info.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) != (info.type == "bool") or not isinstance(value, expected):
        if info.type == "int" and hasattr(value, "__index__") and not isinstance(value, bool):
            value = int(value.__index__())   # numpy integers
        else:
            raise refuse(f"expected {info.type}")
    if info.choices is not None and value not in info.choices:
        raise refuse("not an allowed value")
    if info.type in ("int", "float"):
        if value != value:
            raise refuse("NaN")
        if (info.low is not None and value < info.low) or (info.high is not None and value > info.high):
            raise refuse("out of range")
    return value
