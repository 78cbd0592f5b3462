"""Fuzzing program loading: a damaged or hostile ``.npz`` is a ProgramError, never a crash.

Saved programs covering every kernel, projection kind and optional parameter are mutated by
hypothesis, either as bytes (flips, truncation) or structurally (arrays change dtype, shape
and values, keys disappear, JSON header fields get any JSON value or a plausible wrong
name).  ``load_program`` must then raise :class:`ProgramError` or return a program that
runs.  The engine runs in this process on purpose: an out-of-bounds access it was allowed to
make takes pytest down with it (and ``make test-asan`` runs this file under AddressSanitizer
and UBSan, where a bad read or an integer overflow stops the run too).
"""

from __future__ import annotations

import functools
import io
import json
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spikec import ir
from spikec.compiler.lower import lower
from spikec.errors import ProgramError, SimulationError
from spikec.runtime import Population, Program, load_program, run, save_program
from spikec.runtime.counters import COUNTERS
from spikec.runtime.program import _HEADER

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the programs that get damaged --------------------------------------------------------------------


def float_program() -> Program:
    """Two inputs; dense with delays, a recurrent edge, sparse, conv, a relay with a bias, a
    current-based neuron and one with a membrane batch-norm, on a 2x2 mesh."""
    rng = np.random.default_rng(0)
    nodes = {
        "x": ir.Input((4,)),
        "img": ir.Input((1, 3, 3)),
        "w": ir.Linear(rng.normal(size=(3, 4)), delay=rng.integers(0, 3, (3, 4))),
        "lif": ir.make_population(ir.LIF, 3, tau=2.0, v_threshold=0.5, reset="subtract"),
        "rec": ir.Linear(rng.normal(size=(3, 3))),
        "sp": ir.SparseLinear((2, 3), target=[0, 1, 1], source=[2, 0, 1], weight=[1.0, -0.5, 2.0], delay=[0, 1, 4]),
        "cuba": ir.make_population(ir.CubaLIF, 2, tau_syn=2.0, tau_mem=4.0, v_threshold=0.3),
        "conv": ir.Conv2d(rng.normal(size=(2, 1, 2, 2)), np.array([0.1, -0.2]), padding=((0, 1), (1, 0))),
        "mbn": ir.MembraneBatchNorm(ir.make_population(ir.IF, (2, 3, 3), v_threshold=0.2), mean=[0.0, 0.1],
                                    var=[1.0, 2.0], gamma=[1.0, 0.5], beta=[0.0, 0.1]),
        "aff": ir.Affine(rng.normal(size=(2, 2)), np.array([0.5, -0.5])),
        "o1": ir.Output(), "o2": ir.Output(), "o3": ir.Output(),
    }
    edges = [("x", "w"), ("w", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "sp"), ("sp", "cuba"), ("cuba", "o1"),
             ("img", "conv"), ("conv", "mbn"), ("mbn", "o2"), ("cuba", "aff"), ("aff", "o3")]
    program = lower(ir.Graph(nodes, edges, dt=1.0))
    total = int(program.offsets[-1])
    return program.with_placement(np.arange(total) % 4, np.array([[0, 0], [1, 0], [0, 1], [1, 1]]))


def fixed_program() -> Program:
    """Fixed point: every reset and setting, a graded population, initial state, a relay
    chain with a bias, sparse delays and a convolution."""
    def neuron(shape: tuple[int, ...], **kw: Any) -> ir.FixedCubaLIF:
        base = dict(du=np.full(shape, 1024), dv=np.full(shape, 256), bias=np.zeros(shape, int),
                    v_threshold=np.full(shape, 40), v_reset=np.zeros(shape, int))
        base.update(kw)
        return ir.FixedCubaLIF(**base)

    nodes = {
        "x": ir.Input((4,)),
        "img": ir.Input((1, 3, 3)),
        "w": ir.Linear(np.arange(12).reshape(3, 4) - 5, delay=np.arange(12).reshape(3, 4) % 3),
        "a": neuron((3,), reset="subtract_next", rounding="nearest", u_overflow="saturate", v_bits=10),
        "l1": ir.Linear(np.array([[1, -2, 3], [0, 4, -1]])),
        "l2": ir.Affine(np.array([[2, 1], [-1, 3]]), np.array([5, -5])),
        "b": neuron((2,), spiking_output=False, v_overflow="wrap", input_shift=2, decay_bits=8, du=np.full(2, 17),
                    dv=np.full(2, 3)),
        "sp": ir.SparseLinear((2, 3), target=[0, 1, 1, 0], source=[2, 0, 1, 2], weight=[7, -3, 2, 1],
                              delay=[0, 1, 4, 2]),
        "c": neuron((2,), reset="none"),
        "conv": ir.Conv2d(np.array([[[[1, -1], [2, 0]]], [[[0, 3], [-2, 1]]]]), np.array([1, 0]), stride=(1, 2),
                          padding=1),
        "d": neuron((2, 4, 2), reset="subtract", rounding="floor"),
        "o1": ir.Output(), "o2": ir.Output(), "o3": ir.Output(),
    }
    edges = [("x", "w"), ("w", "a"), ("a", "l1"), ("l1", "l2"), ("l2", "b"), ("b", "o1"), ("a", "sp"), ("sp", "c"),
             ("c", "o2"), ("img", "conv"), ("conv", "d"), ("d", "o3")]
    program = lower(ir.Graph(nodes, edges, dt=1.0))
    pops = []
    for p in program.populations:  # initial state, which only a Program (not the IR) can carry
        if p.kernel == "cuba_fixed":
            p = Population(p.name, p.kernel, p.shape,
                           {**p.params, "v_init": np.arange(p.size) - 1, "u_init": np.ones(p.size, int)},
                           p.spiking, p.reset, p.config)
        pops.append(p)
    return Program(program.dt, program.arithmetic, tuple(pops), program.projections, program.inputs, program.outputs)


@functools.lru_cache(maxsize=None)
def saved(name: str) -> bytes:
    """A base program as the bytes of its .npz file (a function, not a fixture: hypothesis
    would print the bytes of every fixture argument in a failure report)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.npz"
        save_program({"float": float_program, "fixed": fixed_program}[name](), path)
        return path.read_bytes()


BASES = ["float", "fixed"]


# --- what a loaded program must survive ------------------------------------------------------------------


def load_and_run(data: bytes) -> None:
    """load_program on ``data``: a ProgramError, or a program that runs (or refuses its inputs
    with a ProgramError or SimulationError)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.npz"
        path.write_bytes(data)
        try:
            program = load_program(path)
        except ProgramError:
            return
    rng = np.random.default_rng(1)
    inputs = {}
    for port, name in program.inputs.items():
        shape = (2, 3, *program.population(name).shape)
        inputs[port] = (rng.random(shape) < 0.5).astype(np.int64 if program.arithmetic == "fixed" else np.float64)
    try:
        res = run(program, inputs, 4, record="all",
                  record_state={p.name: ("v", "u") for p in program.populations if p.is_neuron},
                  counters="total", threads=2)
    except (ProgramError, SimulationError):
        return
    for arr in res.outputs.values():
        assert arr.shape[:2] == (2, 4)
    assert res.counters.per_population.shape == (2, 1, len(program.populations), len(COUNTERS))


def unpack(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(bytes(arrays.pop(_HEADER)).decode())
    return header, arrays


def pack(header: Any, arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    text = json.dumps(header)  # NaN and Infinity are written as JSON's extension tokens, as Python reads them
    np.savez(buf, **arrays, **{_HEADER: np.frombuffer(text.encode(), dtype=np.uint8)})
    return buf.getvalue()


# --- mutations ---------------------------------------------------------------------------------------------

WORDS = ["input", "pass", "cuba_float", "cuba_fixed", "dense", "sparse", "conv", "value", "none", "subtract",
         "subtract_next", "wrap", "saturate", "floor", "nearest", "toward_zero", "float", "fixed", "weight", "delay",
         "v_init", "alpha", "du", "", "x", "lif", "a", "pop0.alpha"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, -1, 2, 3, 2**16, 2**31, 2**63])
    | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(WORDS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(WORDS), inner, max_size=3),
    max_leaves=6,
)


def paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location in a JSON tree (dict keys and list indices)."""
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += paths(v, prefix + (i,))
    return out


def mutate_header(draw: Any, header: Any, names: list[str], log: list[str]) -> Any:
    where = draw(st.sampled_from(paths(header)))
    if not where:
        header = draw(json_values)
        log.append(f"header = {header!r}")
        return header
    parent = header
    for k in where[:-1]:
        parent = parent[k]
    key = where[-1]
    how = draw(st.sampled_from(["value", "value", "name", "delete", "add"]))
    if how == "delete":
        del parent[key]
        log.append(f"del header{list(where)}")
        return header
    if how == "add" and isinstance(parent, dict):
        key = draw(st.sampled_from(WORDS))
        parent[key] = draw(json_values)
    elif how == "name":  # a plausible but wrong name: another population, array key or keyword
        parent[key] = draw(st.sampled_from(names + WORDS))
    else:
        old = parent[key]
        if isinstance(old, (int, float)) and not isinstance(old, bool) and draw(st.booleans()):
            parent[key] = draw(st.sampled_from([old + 1, old - 1, -old, old * 2**20, old + 2**31, old * 2**40, 0,
                                                float(old), str(old), old + 0.5, [old]]))
        else:
            parent[key] = draw(json_values)
    log.append(f"header{list(where[:-1]) + [key]} = {parent[key]!r}")
    return header


def mutate_array(draw: Any, arr: np.ndarray, log: list[str]) -> np.ndarray:
    how = draw(st.sampled_from(["dtype", "shape", "value", "value", "empty", "scalar", "grow"]))
    if how == "dtype":
        dtype = draw(st.sampled_from(["float32", "float16", "int8", "int32", "uint8", "uint64", "bool", "complex128",
                                      "U3", "S2"]))
        log.append(f"astype({dtype})")
        try:
            with warnings.catch_warnings():  # lossy casts are the point here
                warnings.simplefilter("ignore")
                return arr.astype(dtype)
        except (TypeError, ValueError, OverflowError):
            return arr
    log.append(how)
    if how == "shape":
        if arr.size and draw(st.booleans()):
            return arr.reshape(-1)[: max(0, arr.size - draw(st.integers(1, 3)))]
        return arr.reshape(-1, 1) if arr.ndim < 3 else arr.reshape(-1)
    if how == "empty":
        return arr.reshape(-1)[:0]
    if how == "scalar":
        return np.asarray(arr.reshape(-1)[0] if arr.size else 0)
    if how == "grow":
        return np.concatenate([arr.reshape(-1), arr.reshape(-1)[:2]]) if arr.size else np.zeros(3)
    out = arr.astype(np.float64) if arr.dtype.kind in "biuf" and draw(st.booleans()) else arr.copy()
    if not out.size:
        return out
    i = draw(st.integers(0, out.size - 1))
    value = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1.0, 0.5, 2.0**62, 2.0**63, -(2.0**63), 2**31,
                                  2**16 + 1, -(2**31), 7, 0]))
    log[-1] = f"[{i}] = {value!r} (as {out.dtype})"
    flat = out.reshape(-1)
    try:
        flat[i] = value
    except (OverflowError, ValueError):  # the value does not fit this dtype: take its extreme
        flat[i] = np.iinfo(out.dtype).max if out.dtype.kind in "iu" else 0
    return out


@dataclass(frozen=True)
class Damaged:
    """A damaged program file, shown in failure reports as the recipe that made it."""

    base: str
    log: tuple[str, ...]
    data: bytes = field(repr=False)


@st.composite
def damaged_programs(draw: Any) -> Damaged:
    base = draw(st.sampled_from(BASES))
    header, arrays = unpack(saved(base))
    names = [p["name"] for p in header["populations"]] + sorted(arrays)
    log: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(["header", "header", "array", "drop"]))
        if target == "header":
            header = mutate_header(draw, header, names, log)
        elif target == "array":
            key = draw(st.sampled_from(sorted(arrays)))
            log.append(f"{key}: ")
            arrays[key] = mutate_array(draw, arrays[key], log)
            log[-2:] = [log[-2] + log[-1]]
        elif arrays:
            key = draw(st.sampled_from(sorted(arrays)))
            del arrays[key]
            log.append(f"del {key}")
    return Damaged(base, tuple(log), pack(header, arrays))


# --- the tests ---------------------------------------------------------------------------------------------


def test_the_base_programs_load_and_run() -> None:
    for name in BASES:
        header, arrays = unpack(saved(name))
        load_and_run(pack(header, arrays))  # the unpack/pack round trip itself is harmless


@SETTINGS
@given(damaged_programs())
def test_structurally_damaged_programs_never_crash(damaged: Damaged) -> None:
    load_and_run(damaged.data)


@SETTINGS
@given(data=st.data())
def test_byte_damaged_files_never_crash(data: st.DataObject) -> None:
    raw = bytearray(saved(data.draw(st.sampled_from(BASES))))
    how = data.draw(st.sampled_from(["flip", "truncate", "garbage"]))
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "garbage":
        raw = bytearray(data.draw(st.binary(max_size=64)))
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    load_and_run(bytes(raw))
