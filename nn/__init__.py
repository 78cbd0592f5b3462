"""spikec.nn: PyTorch spiking layers that the PyTorch frontend understands.

Modules take a whole sequence ``(batch, time, *shape)`` and return ``(batch, time, *shape)``;
state starts at zero on every call.  :func:`spikec.compiler.frontends.torch_import.from_torch`
turns a ``torch.nn.Sequential`` of these (and of torch / snnTorch layers) into an IR graph.
"""

from .delay import DelayedLinear
from .neurons import LIF, CubaLIF, FastSigmoid, spike

__all__ = ["LIF", "CubaLIF", "DelayedLinear", "FastSigmoid", "spike"]
