"""The spiking graph IR: typed immutable nodes, the graph, and the reference simulator."""

from .conv import AvgPool2d, Conv1d, Conv2d, SumPool2d
from .delay import Delay
from .fixed import FixedCubaLIF
from .graph import Graph
from .io import Input, Output
from .linear import Affine, Linear, Projection, Scale, SparseLinear
from .neurons import IF, LI, LIF, CubaLI, CubaLIF, Integrator, Neuron, Reset, Threshold, make_population
from .node import Node
from .norm import BatchNorm, MembraneBatchNorm
from .readout import decode_rate
from .reshape import Flatten
from .serialize import load_graph, save_graph
from .simulate import SimResult, simulate

__all__ = [
    "Graph", "Node", "Input", "Output",
    "Neuron", "LIF", "CubaLIF", "IF", "LI", "CubaLI", "Integrator", "Threshold", "Reset", "make_population",
    "FixedCubaLIF", "MembraneBatchNorm",
    "Projection", "Linear", "Affine", "SparseLinear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
    "Flatten", "Delay", "BatchNorm",
    "simulate", "SimResult", "save_graph", "load_graph", "decode_rate",
]
