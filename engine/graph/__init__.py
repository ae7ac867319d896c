"""Networks as graphs of layers: :class:`Pipeline`, :class:`Node`, :class:`InputSpec`, the
ledger (sizes, parameters, MACs, memory from arithmetic alone) and the pipeline-file format."""
