"""spikec.runtime: the Program format, the cffi binding of the C engine, and its counters."""
