"""The same two-layer network as an idiomatic torch.nn module, with a Solver of the same semantics."""
