"""Check the reference parameter set against the criteria of docs/model.md, section 8 (and docs/results.md).

For each (N, J0, seed): integrate a transient from the perturbed homogeneous
fixed point, then measure over a window: population-mean rates, the synchrony
index chi, whether the run sits on the homogeneous fixed point, and lambda_max
by the two-trajectory (Benettin) method: a companion trajectory at distance d0,
renormalised every `renorm` time units (stdnet.lyapunov.spectrum.two_trajectory_exponent; its
s.e.m. from 5 blocks, stdnet.stats.block_ci; chi as stdnet.simulation.summary.synchrony_chi). Prints
one JSON line per run.

    python tools/reference_check.py --N 10000 --J0 0.1 0.87 1.5 --seeds 1 \
        --transient 500 --window 500 --threads 4
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
from scipy import stats

from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
from stdnet.lyapunov.spectrum import two_trajectory_exponent
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.model.transfer import phi
from stdnet.simulation.simulate import initial_state
from stdnet.simulation.summary import synchrony_chi
from stdnet.theory.homogeneous import homogeneous_eigenvalues
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.workflow.runtime import set_threads


def check(N, J0, seed, transient, window, dt, renorm, d0=1e-7, **model):
    p = ModelParams(N=N, J0=J0, **model)
    run = RunParams(dt=dt, t_transient=0.0, t_record=1.0, record_interval=dt)
    net = build_network(p, seed)
    args = kernel_args(p, net)
    work = make_work(p)
    y = initial_state(p, run, seed)
    t0 = time.perf_counter()
    n_tr = int(round(transient / dt))
    bad = advance(y, n_tr, METHOD_CODES["rk4"], dt, *args, work)
    if bad >= 0:
        return {"N": N, "J0": J0, "seed": seed, "diverged_at_step": int(bad)}
    rng = np.random.default_rng(seed + 12345)
    n_ren = int(round(renorm / dt))
    n_blocks = int(round(window / renorm))
    pop_nuE = []
    nu_sum = np.zeros(p.N_E)
    nu_sq = np.zeros(p.N_E)
    reference = []  # the library's reference trajectory: the first state it moves

    def step(state, n_steps):
        advance(state, n_steps, METHOD_CODES["rk4"], dt, *args, work)
        if not reference:
            reference.append(state)
        if state is reference[0]:  # sample the rates along the reference trajectory
            nu = phi(p.transfer, state[: p.N_E])
            pop_nuE.append(nu.mean())
            nu_sum[:] += nu
            nu_sq[:] += nu * nu

    lam, half, _ = two_trajectory_exponent(step, y, rng.standard_normal(p.dim), d0=d0,
                                           n_step=n_ren, dt=dt, n_align=0, n_avg=n_blocks,
                                           n_blocks=5, confidence=0.95)
    y = reference[0]
    nu_mean = nu_sum / n_blocks
    single_var = max((nu_sq / n_blocks - nu_mean**2).mean(), 0.0)
    fp = homogeneous_fixed_point(p)
    dev = float(np.max(np.abs(y - fp.state(p))))
    ev = homogeneous_eigenvalues(p)
    return {
        "N": N, "J0": J0, "seed": seed, "K_E": p.K_E,
        # block_ci's half width is t_{0.975, 4} x the s.e.m. of the 5 block means
        "lambda_max": lam, "lambda_sem": float(half / stats.t.ppf(0.975, 4)),
        "chi_E": synchrony_chi(pop_nuE, single_var),
        "nu_E": float(nu_mean.mean()), "nu_I": float(phi(p.transfer, y[p.N_E:p.N]).mean()),
        "single_sd_nu_E": math.sqrt(single_var), "deviation_from_hom_fp": dev,
        "hom_mode_max_re": float(ev[0].real), "wall_s": round(time.perf_counter() - t0, 1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, nargs="+", required=True)
    ap.add_argument("--J0", type=float, nargs="+", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--transient", type=float, default=500.0)
    ap.add_argument("--window", type=float, default=500.0)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--renorm", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    set_threads(a.threads)
    for N in a.N:
        for J0 in a.J0:
            for s in a.seeds:
                print(json.dumps(check(N, J0, s, a.transient, a.window, a.dt, a.renorm)), flush=True)


if __name__ == "__main__":
    main()
