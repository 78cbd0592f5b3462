"""Models and data: load a model (``"default"`` is the bundled one), load input spikes, and
evaluate a model in the reference simulator."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from ..errors import ModelImportError, SimulationError
from ..ir import Graph, Neuron, SimResult, load_graph, simulate
from ..ir.limits import check_size
from ..ir.npzfile import open_arrays
from ..ir.readout import decode_rate
from ..ir.serialize import is_graph_file

if TYPE_CHECKING:  # the runtime (and its compiled engine) is not needed to read data files
    from ..runtime.program import Program

__all__ = [
    "DEFAULT_MODEL",
    "load",
    "bundled_model",
    "bundled_data",
    "Dataset",
    "load_dataset",
    "poisson_dataset",
    "decode_rate",
    "Evaluation",
    "evaluate",
    "source_names",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_INPUT_KEYS = ("spikes", "inputs", "x")
#: The name that stands for the bundled model wherever a model is asked for.
DEFAULT_MODEL = "default"


def source_names() -> list[str]:
    """The frameworks whose reading of a NIR file ``load(..., source=...)`` knows."""
    from ..compiler.frontends.nir_sources import CONVENTIONS

    return sorted(CONVENTIONS)


def bundled_model() -> Path:
    """Path of the bundled default model (an SNN trained on scikit-learn's 8x8 digits)."""
    return DATA_DIR / "digits.nir"


def bundled_data() -> Path:
    """Path of the bundled model's held-out test spikes and labels."""
    return DATA_DIR / "digits_test.npz"


def load(model: Any, *, dt: float | None = None, input_shape: tuple[int, ...] | None = None,
         source: str | None = None) -> Graph:
    """Turn ``model`` into a validated :class:`~spikec.ir.Graph`.

    ``model`` may be a Graph, a path to a ``.nir`` file or to a spikec graph (``.npz``),
    ``"default"`` (the bundled digits model), a ``nir.NIRGraph``, or a ``torch.nn.Module`` (then
    ``input_shape`` is required).  ``dt`` overrides the time step where the format has none of
    its own (NIR, PyTorch).  ``source`` names the framework that wrote a NIR file
    (``"snntorch"``, ``"rockpool"``, ``"spyx"``, ``"nir"``) and reads it as that framework
    computes it: its exporter's dt, reset and discretization (``compiler/frontends/nir_sources.py``).
    """
    if source is not None and not _is_nir(model):
        raise ModelImportError(f"source={source!r} applies to NIR models, and this is not one", parameter="source",
                               fix="leave source out, or give a .nir file or a nir.NIRGraph")
    if isinstance(model, Graph):
        return model if dt is None else model.replace(dt=dt)
    if isinstance(model, str) and model == DEFAULT_MODEL:
        model = bundled_model()
    if isinstance(model, (str, os.PathLike)):
        return _load_file(Path(model), dt, source)
    if _is_nir(model):
        from ..compiler.frontends.nir_io import from_nir

        return from_nir(model, dt=dt, framework=source)
    if _is_torch_module(model):
        if input_shape is None:
            raise ModelImportError(
                "importing a torch module needs the shape of one input sample",
                parameter="input_shape",
                fix="pass input_shape=(features,) or (channels, height, width)",
            )
        from ..compiler.frontends.torch_import import from_torch

        return from_torch(model, input_shape=input_shape, dt=dt)
    raise ModelImportError(f"cannot import an object of type {type(model).__name__}")


def _is_nir(model: Any) -> bool:
    """A ``.nir`` path, or a ``nir.NIRGraph`` (a subclass of it too) without importing nir."""
    if isinstance(model, (str, os.PathLike)):
        return Path(model).suffix == ".nir"
    return any(c.__module__.split(".")[0] == "nir" and c.__name__ == "NIRGraph" for c in type(model).__mro__)


def _load_file(path: Path, dt: float | None, source: str | None = None) -> Graph:
    name = os.fspath(path)
    if not path.exists():
        raise ModelImportError(f"no such file: {name!r}")
    if path.suffix == ".nir":
        from ..compiler.frontends.nir_io import from_nir

        return from_nir(path, dt=dt, framework=source)
    if is_graph_file(path):
        graph = load_graph(path)
        return graph if dt is None else graph.replace(dt=dt)
    if _is_program_file(path):
        raise ModelImportError(
            f"{name!r} is a compiled program (from `spikec compile --output`), not a model",
            fix=f"run it with `spikec run {name} --input data.npz` (spikec.run in Python), which also prices it; "
                "info, simulate, compile, estimate and compare need the model it was compiled from")
    if path.suffix == ".npz":
        return load_graph(path)  # not a graph: its error says why (unreadable, truncated, another npz)
    raise ModelImportError(
        f"cannot tell what kind of model {name!r} is",
        fix="give a .nir file or a spikec graph saved with spikec.ir.save_graph (.npz)",
    )


def _is_program_file(path: Path) -> bool:
    from ..runtime.program import is_program_file

    return is_program_file(path)


def _is_torch_module(obj: Any) -> bool:
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in type(obj).__mro__)


@dataclass(frozen=True)
class Dataset:
    """Inputs ``(batch, time, *shape)`` per Input node, and labels when the file has them.

    Checked on construction: at least one sample and one time step, and labels (if any) one
    non-negative whole number per sample.  ``source`` says where the data came from (a path,
    or what generated it), for reports."""

    inputs: Mapping[str, np.ndarray]
    labels: np.ndarray | None
    source: str = ""

    def __post_init__(self) -> None:
        if not self.inputs:
            raise SimulationError("a dataset needs at least one input array", parameter="inputs")
        for name, arr in self.inputs.items():
            check_input_array(np.asarray(arr), f"input {name!r}")
        if self.labels is not None:
            object.__setattr__(self, "labels", checked_labels(self.labels, self.samples))

    @property
    def samples(self) -> int:
        return next(iter(self.inputs.values())).shape[0]

    @property
    def steps(self) -> int:
        return next(iter(self.inputs.values())).shape[1]

    def take(self, n: int | None) -> "Dataset":
        """The first ``n`` samples (all when ``n`` is None)."""
        if n is None:
            return self
        return Dataset({k: v[:n] for k, v in self.inputs.items()}, None if self.labels is None else self.labels[:n],
                       self.source)


def check_input_array(arr: np.ndarray, what: str) -> None:
    """Refuse an input array that cannot be laid out ``(batch, time, *shape)`` with at least one
    sample and one step (``what`` names it: ``"array 'spikes' of 'd.npz'"``)."""
    if arr.ndim < 2:
        raise SimulationError(f"{what} has shape {arr.shape}; expected (batch, time, *input_shape)",
                              parameter="spikes", fix="add a batch axis (and a time axis) of length 1")
    if arr.shape[0] == 0:
        raise SimulationError(f"{what} has shape {arr.shape}: no samples", parameter="spikes",
                              fix="give at least one sample")
    if arr.shape[1] == 0:
        raise SimulationError(f"{what} has shape {arr.shape}: no time steps", parameter="spikes",
                              fix="give at least one time step")


def checked_labels(labels: Any, samples: int) -> np.ndarray:
    """``labels`` as int64 class indices, one per sample, or a SimulationError naming ``labels``."""
    arr = np.asarray(labels)
    fix = f"give one class index (a whole number >= 0) per sample: shape ({samples},)"
    if arr.ndim != 1:
        raise SimulationError(f"labels have shape {arr.shape}", parameter="labels", fix=fix)
    if arr.dtype.kind not in "iuf":
        raise SimulationError(f"labels of dtype {arr.dtype} are not class indices", parameter="labels", fix=fix)
    if arr.shape[0] != samples:
        raise SimulationError(f"{arr.shape[0]} labels for {samples} samples", parameter="labels", fix=fix)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise SimulationError(f"labels hold values that are not whole numbers (e.g. {float(arr[bad][0]):g})",
                                  parameter="labels", fix=fix)
    if arr.size and arr.min() < 0:
        raise SimulationError(f"labels hold negative values (e.g. {arr.min()})", parameter="labels", fix=fix)
    if arr.size and arr.max() > np.iinfo(np.int64).max:
        raise SimulationError(f"labels hold {arr.max()}, beyond any class index", parameter="labels", fix=fix)
    return arr.astype(np.int64)


def check_label_range(labels: np.ndarray | None, classes: int | None, output: str = "") -> None:
    """Refuse labels that name a class the one output cannot predict (``classes`` units)."""
    if labels is None or classes is None or not labels.size or labels.max() < classes:
        return
    raise SimulationError(f"labels reach {labels.max()}, but output {output!r} has {classes} units "
                          f"(classes 0..{classes - 1})", parameter="labels",
                          fix="labels are indices of output units; check the file belongs to this model")


def output_classes(reader: "Graph | Program") -> tuple[str, int] | None:
    """The one output's name and unit count (the classes it predicts), or None with several."""
    if isinstance(reader, Graph):
        shapes = {n: reader.out_shape(n) for n in reader.outputs}
    else:
        shapes = dict(reader.output_shapes)
    if len(shapes) != 1:
        return None
    name, shape = next(iter(shapes.items()))
    return name, int(np.prod(shape))


def check_labels_fit(data: Dataset, reader: "Graph | Program") -> None:
    """Refuse ``data``'s labels if one names a class ``reader``'s one output cannot predict."""
    one = output_classes(reader)
    if one is not None:
        check_label_range(data.labels, one[1], one[0])


def load_dataset(path: str | os.PathLike, graph: "Graph | Program") -> Dataset:
    """Read an ``.npz`` of input spikes for ``graph`` (or a runtime Program's input ports).

    A graph with one Input reads the array ``spikes`` (or ``inputs``, ``x``, or the only
    array); several Inputs read one array per Input node name.  ``labels`` is optional.
    Each array's declared size is checked against the memory limit before it is read.
    """
    fix = "save the spikes with np.savez(path, spikes=array_of_shape_(batch, time, *input_shape), labels=...)"
    with open_arrays(path, what="an input file", error=SimulationError, fix=fix) as data:
        name = os.fspath(path)
        files = set(data)
        names = list(graph.inputs)
        if len(names) == 1:
            key = next((k for k in _INPUT_KEYS if k in files), None)
            candidates = sorted(files - {"labels"})
            if key is None and len(candidates) == 1:
                key = candidates[0]
            if key is None:
                raise SimulationError(f"{name!r} holds {sorted(files)}; cannot tell which array is the input",
                                      fix="name the input array 'spikes'")
            keys = {names[0]: key}
        else:
            missing = [n for n in names if n not in files]
            if missing:
                raise SimulationError(f"{name!r} has no array for input(s) {missing}",
                                      fix="one array per Input node name")
            keys = {n: n for n in names}
        inputs = {}
        for node, key in keys.items():
            inputs[node] = np.asarray(data[key])
            check_input_array(inputs[node], f"array {key!r} of {name!r}")
        labels = np.asarray(data["labels"]) if "labels" in files else None
    dataset = Dataset(inputs, labels, name)
    check_labels_fit(dataset, graph)
    return dataset


def poisson_dataset(reader: "Graph | Program", rate: float, *, steps: int = 100, samples: int = 16,
                    seed: int = 0) -> Dataset:
    """Synthetic input for ``reader``'s inputs: every input neuron spikes at each step with
    probability ``rate`` (0 < rate <= 1), independently: a Poisson process of ``rate`` spikes per
    step, sampled in discrete time.  ``samples x steps`` of it, from ``seed``; no labels."""
    rate = checked_rate(rate)
    steps, samples = checked_count(steps, "--steps"), checked_count(samples, "--samples")
    shapes = ({n: reader.out_shape(n) for n in reader.inputs} if isinstance(reader, Graph)
              else {port: reader.population(pop).shape for port, pop in reader.inputs.items()})
    check_size(f"synthetic input of {samples} samples x {steps} steps", samples * steps *
               sum(int(np.prod(s)) for s in shapes.values()), parameter="--steps", fix="ask for fewer steps or samples")
    rng = np.random.default_rng(checked_count(seed, "--seed", minimum=0))
    inputs = {}
    for name, shape in shapes.items():
        spikes = np.empty((samples, steps, *shape), np.uint8)
        for i in range(samples):  # one sample at a time: the float draws never exceed one sample
            spikes[i] = rng.random((steps, *shape)) < rate
        inputs[name] = spikes
    return Dataset(inputs, None, f"synthetic Poisson input at rate {rate:g} per neuron per step "
                                 f"({samples} samples x {steps} steps, seed {seed})")


def checked_rate(rate: Any) -> float:
    """``rate`` as a float in (0, 1], or a SimulationError naming ``--rate``."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(rate, bool) or not 0 < value <= 1:
        raise SimulationError(f"rate={rate!r}", parameter="--rate", limit="0 < rate <= 1",
                              fix="spikes per input neuron per step, e.g. --rate 0.05")
    return value


def checked_count(value: Any, flag: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a SimulationError naming ``flag``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SimulationError(f"{flag.lstrip('-')}={value!r}", parameter=flag, limit=f">= {minimum}",
                              fix=f"give a whole number >= {minimum} (or leave {flag} out for the default)")
    return int(value)


@dataclass(frozen=True)
class Evaluation:
    """A simulation together with what users ask of it first."""

    result: SimResult
    predictions: np.ndarray | None
    accuracy: float | None
    rates: Mapping[str, float]  # mean spikes per neuron per step, per spiking population


def evaluate(
    graph: Graph,
    data: Dataset,
    *,
    steps: int | None = None,
    mode: str | None = None,
    dtype: Any = np.float32,
    on_step: Callable[[int], None] | None = None,
) -> Evaluation:
    """Simulate ``graph`` on ``data`` in the reference simulator, with rates and accuracy."""
    if steps is not None:
        steps = checked_count(steps, "--steps")
    if not isinstance(data, Dataset):
        raise SimulationError(f"data is a {type(data).__name__}", parameter="data",
                              fix="pass a Dataset (spikec.load_dataset(path, graph))")
    check_labels_fit(data, graph)
    populations = [n for n, v in graph.nodes.items() if isinstance(v, Neuron) and v.spiking]
    result = simulate(graph, dict(data.inputs), steps=steps, record=populations, mode=mode, dtype=dtype,
                      on_step=on_step)
    rates = {n: float(result.recorded[n].mean()) for n in populations}
    predictions = accuracy = None
    if len(result.outputs) == 1:
        predictions = decode_rate(result.output)
        if data.labels is not None:
            accuracy = float(np.mean(predictions == data.labels))
    return Evaluation(result=result, predictions=predictions, accuracy=accuracy, rates=rates)
