"""Independent random streams from one integer seed (numpy SeedSequence).

The order of the spawned children is part of the file format: adding a stream
appends to STREAMS, never inserts, so old seeds keep their networks.
"""
from __future__ import annotations

import numpy as np

STREAMS = ("network", "initial_state", "tangent_basis", "dmf", "perturbed_trajectory",
           "surrogates", "indegree", "std_parameters")


def seed_sequences(seed: int) -> dict[str, np.random.SeedSequence]:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: invalid value {seed!r}; allowed: an integer >= 0")
    root = np.random.SeedSequence(int(seed))
    return dict(zip(STREAMS, root.spawn(len(STREAMS))))


def rng(seed: int, stream: str) -> np.random.Generator:
    """The generator of one named stream of a seed."""
    if stream not in STREAMS:
        raise ValueError(f"stream: unknown {stream!r}; allowed: {', '.join(STREAMS)}")
    return np.random.Generator(np.random.PCG64(seed_sequences(seed)[stream]))
