"""spikec.nn: PyTorch spiking layers that the PyTorch frontend understands (requires torch).

Modules take a whole sequence ``(batch, time, *shape)`` and return ``(batch, time, *shape)``;
state starts at zero on every call.  Per-step torch layers (conv, pooling, flatten,
batch-norm) go between them wrapped in :class:`Steps`; ``nn.Linear`` works on sequences as it
is.  :func:`spikec.compiler.frontends.torch_import.from_torch` turns a ``torch.nn.Sequential``
of these (and of torch / snnTorch layers) into an IR graph with the same spikes.
"""

from .delay import DelayedLinear
from .neurons import LIF, ArcTan, CubaLIF, FastSigmoid, spike
from .steps import Steps

__all__ = ["LIF", "CubaLIF", "DelayedLinear", "FastSigmoid", "ArcTan", "spike", "Steps"]
