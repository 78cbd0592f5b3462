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
    "decode_rate",
    "Evaluation",
    "evaluate",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_INPUT_KEYS = ("spikes", "inputs", "x")
#: The name that stands for the bundled model wherever a model is asked for.
DEFAULT_MODEL = "default"


def bundled_model() -> Path:
    """Path of the bundled default model (an SNN trained on scikit-learn's 8x8 digits)."""
    return DATA_DIR / "digits.nir"


def bundled_data() -> Path:
    """Path of the bundled model's held-out test spikes and labels."""
    return DATA_DIR / "digits_test.npz"


def load(source: Any, *, dt: float | None = None, input_shape: tuple[int, ...] | None = None) -> Graph:
    """Turn ``source`` into a validated :class:`~spikec.ir.Graph`.

    ``source`` may be a Graph, a path to a ``.nir`` file or to a spikec graph (``.npz``),
    ``"default"`` (the bundled digits model), a ``nir.NIRGraph``, or a ``torch.nn.Module`` (then
    ``input_shape`` is required).  ``dt``
    overrides the time step where the format has none of its own (NIR, PyTorch).
    """
    if isinstance(source, Graph):
        return source if dt is None else source.replace(dt=dt)
    if isinstance(source, str) and source == DEFAULT_MODEL:
        source = bundled_model()
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise ModelImportError(f"no such file: {os.fspath(path)!r}")
        if path.suffix == ".nir":
            from ..compiler.frontends.nir_io import from_nir

            return from_nir(path, dt=dt)
        if path.suffix == ".npz" and is_graph_file(path):
            graph = load_graph(path)
            return graph if dt is None else graph.replace(dt=dt)
        raise ModelImportError(
            f"cannot tell what kind of model {os.fspath(path)!r} is",
            fix="give a .nir file or a spikec graph saved with spikec.ir.save_graph (.npz)",
        )
    if type(source).__module__.startswith("nir"):
        from ..compiler.frontends.nir_io import from_nir

        return from_nir(source, dt=dt)
    if _is_torch_module(source):
        if input_shape is None:
            raise ModelImportError(
                "importing a torch module needs the shape of one input sample",
                parameter="input_shape",
                fix="pass input_shape=(features,) or (channels, height, width)",
            )
        from ..compiler.frontends.torch_import import from_torch

        return from_torch(source, input_shape=input_shape, dt=dt)
    raise ModelImportError(f"cannot import an object of type {type(source).__name__}")


def _is_torch_module(obj: Any) -> bool:
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in type(obj).__mro__)


@dataclass(frozen=True)
class Dataset:
    """Inputs ``(batch, time, *shape)`` per Input node, and labels when the file has them."""

    inputs: Mapping[str, np.ndarray]
    labels: np.ndarray | None

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
        return Dataset({k: v[:n] for k, v in self.inputs.items()}, None if self.labels is None else self.labels[:n])


def load_dataset(path: str | os.PathLike, graph: "Graph | Program") -> Dataset:
    """Read an ``.npz`` of input spikes for ``graph`` (or a runtime Program's input ports).

    A graph with one Input reads the array ``spikes`` (or ``inputs``, ``x``, or the only
    array); several Inputs read one array per Input node name.  ``labels`` is optional.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SimulationError(f"cannot read input file {os.fspath(path)!r}: {exc}") from None
    with data:
        files = set(data.files)
        labels = np.asarray(data["labels"]) if "labels" in files else None
        names = list(graph.inputs)
        if len(names) == 1:
            key = next((k for k in _INPUT_KEYS if k in files), None)
            candidates = sorted(files - {"labels"})
            if key is None and len(candidates) == 1:
                key = candidates[0]
            if key is None:
                raise SimulationError(
                    f"{os.fspath(path)!r} holds {sorted(files)}; cannot tell which array is the input",
                    fix="name the input array 'spikes'",
                )
            inputs = {names[0]: np.asarray(data[key])}
        else:
            missing = [n for n in names if n not in files]
            if missing:
                raise SimulationError(f"{os.fspath(path)!r} has no array for input(s) {missing}",
                                      fix="one array per Input node name")
            inputs = {n: np.asarray(data[n]) for n in names}
    if labels is not None and labels.shape[:1] != next(iter(inputs.values())).shape[:1]:
        raise SimulationError(
            f"{len(labels)} labels for {next(iter(inputs.values())).shape[0]} samples", parameter="labels"
        )
    return Dataset(inputs, labels)


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
