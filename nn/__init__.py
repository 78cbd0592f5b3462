"""spikec.nn: PyTorch spiking layers that the PyTorch frontend understands."""
