"""What every `stdnet bench` kernel times with: calibrated, interleaved repeats, and the
network and state they time on (the same for every baseline)."""
from __future__ import annotations

import math
import time

import numpy as np

from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.theory.meanfield import homogeneous_fixed_point


def calibrate(fn, target_s: float, max_n: int) -> int:
    """How many calls of fn make one timing last about target_s (fn already warm)."""
    t0 = time.perf_counter()
    fn(1)
    t1 = max(time.perf_counter() - t0, 1e-7)
    return int(max(1, min(max_n, math.ceil(target_s / t1))))


def best_of(timers: dict, repeats: int) -> dict:
    """Min time per call of each timer; repetitions interleaved across timers.

    timers: name -> (fn(n) running n calls, n).
    """
    best = {k: math.inf for k in timers}
    for _ in range(repeats):
        for k, (fn, n) in timers.items():
            t0 = time.perf_counter()
            fn(n)
            best[k] = min(best[k], (time.perf_counter() - t0) / n)
    return best


def network_and_state(N: int, opts):
    """(params, network, state, seconds to build the network): the network of --seed at
    --J0, --c, and its homogeneous fixed point kicked by 0.1 Gaussian noise in h."""
    p = ModelParams(N=N, J0=opts.J0, c=opts.c)
    t0 = time.perf_counter()
    net = build_network(p, opts.seed)
    build_s = time.perf_counter() - t0
    return p, net, kicked_state(p), build_s


def kicked_state(params) -> np.ndarray:
    """The state every benchmark times from: the homogeneous fixed point, its inputs h
    kicked by 0.1 Gaussian noise (a fixed stream, the same for every baseline)."""
    y0 = homogeneous_fixed_point(params).state(params)
    y0[: params.N] += 0.1 * np.random.default_rng(0).standard_normal(params.N)
    return y0
