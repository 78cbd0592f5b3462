"""spikec.compiler: frontends that build an ir.Graph, and the passes that transform it."""
