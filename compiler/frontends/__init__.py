"""spikec.compiler.frontends: importers from NIR files and PyTorch modules into ir.Graph."""
