"""Check the reference parameter set against the criteria of MODEL.md section 1.

For each (N, J0, seed): integrate a transient from the perturbed homogeneous
fixed point, then measure over a window: population-mean rates, the synchrony
index chi, whether the run sits on the homogeneous fixed point, and lambda_max
by the two-trajectory (Benettin) method: a companion trajectory at distance d0,
renormalised every `renorm` time units. Prints one JSON line per run.

    python tools/reference_check.py --N 10000 --J0 0.1 0.87 1.5 --seeds 1 \
        --transient 500 --window 500 --threads 4
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from stdnet.integrate import METHOD_CODES, advance, kernel_args, make_work
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams, RunParams
from stdnet.runtime import set_threads
from stdnet.simulate import initial_state
from stdnet.stability import homogeneous_eigenvalues
from stdnet.transfer import phi


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
    v = rng.standard_normal(p.dim)
    z = y + d0 * v / np.linalg.norm(v)
    n_ren = int(round(renorm / dt))
    n_blocks = int(round(window / renorm))
    log_growth = []
    pop_nuE = []
    nu_sum = np.zeros(p.N_E)
    nu_sq = np.zeros(p.N_E)
    for _ in range(n_blocks):
        advance(y, n_ren, 0, dt, *args, work)
        advance(z, n_ren, 0, dt, *args, work)
        d = np.linalg.norm(z - y)
        log_growth.append(math.log(d / d0))
        z = y + (z - y) * (d0 / d)
        nu = phi(p.transfer, y[: p.N_E])
        pop_nuE.append(nu.mean())
        nu_sum += nu
        nu_sq += nu * nu
    lg = np.array(log_growth) / renorm
    m = len(lg) // 5
    blocks = lg[: 5 * m].reshape(5, m).mean(axis=1)
    nu_mean = nu_sum / n_blocks
    single_sd = math.sqrt(max((nu_sq / n_blocks - nu_mean**2).mean(), 0.0))
    fp = homogeneous_fixed_point(p)
    dev = float(np.max(np.abs(y - fp.state(p))))
    ev = homogeneous_eigenvalues(p)
    return {
        "N": N, "J0": J0, "seed": seed, "K_E": p.K_E,
        "lambda_max": float(lg.mean()), "lambda_sem": float(blocks.std(ddof=1) / math.sqrt(5)),
        "chi_E": float(np.std(pop_nuE) / single_sd) if single_sd > 0 else float("nan"),
        "nu_E": float(nu_mean.mean()), "nu_I": float(phi(p.transfer, y[p.N_E:p.N]).mean()),
        "single_sd_nu_E": single_sd, "deviation_from_hom_fp": dev,
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
