"""Source connectors: one module per protocol, plus the runner that loads their batches."""
