"""The numerics layer (torch): datasets, batched two-layer networks, the training engine,
trajectories and measurements in the theory's own terms."""
