"""The CUDA backend on heterogeneous networks, on a real GPU (tools/gpu_check.sh runs it).

tests/test_cuda_backend.py checks variable rows and per-neuron u_j, tau_D,j at N <= 100;
this runs a network large enough for many tiles, 16-bit blocks and the gather's shares on
the device: gamma in-degrees of CV 0.2 (rho 0.5) with u_cv = tau_D_cv = 0.3, and the
paper's network of the same N and c for the time per step. Each: RK4 steps on the GPU
(CudaEngine) and on the CPU (kernels.cpu.advance, all cores) from the same kicked state;
the relative difference of the final states must be < 1e-12 (the tests' tolerance).
Prints one line per network and exits 1 where a difference is too large.

    python tools/gpu_heterogeneous.py [--N 20000] [--c 0.1] [--steps 20]
"""
from __future__ import annotations

import argparse
import sys
import time
from types import SimpleNamespace

import numpy as np

from stdnet.bench.cuda import stable_dt
from stdnet.bench.timing import kicked_state
from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work
from stdnet.kernels.cuda.engine import CudaEngine, device_bytes
from stdnet.kernels.cuda.layout import layout_bytes
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams

TOLERANCE = 1e-12


def one(params: ModelParams, steps: int, seed: int) -> bool:
    dt = stable_dt(params, 0.05)
    net = build_network(params, seed)
    y0 = kicked_state(params)
    run = RunParams(dt=dt, record_interval=dt, t_transient=0.0, t_record=dt, backend="cuda")
    state = SimpleNamespace(y=y0.copy(), **{k: np.zeros(params.N if k != "x_mean" else
                                                        params.N_E)
                                            for k in ("h_mean", "h_m2", "nu_mean", "nu_m2",
                                                      "x_mean")})
    eng = CudaEngine(params, run, net, state)
    if eng.advance(state, 1) >= 0:  # compiles the kernels
        raise RuntimeError("the GPU run diverged")
    t0 = time.perf_counter()
    bad = eng.advance(state, steps - 1)  # advance waits for its launches (the flag)
    gpu_ms = (time.perf_counter() - t0) * 1e3 / max(steps - 1, 1)
    eng.sync(state)
    args, work = kernel_args(params, net), make_work(params)
    y = y0.copy()
    advance(y, 1, METHOD_CODES["rk4"], dt, *args, work)  # compiles
    t0 = time.perf_counter()
    advance(y, steps - 1, METHOD_CODES["rk4"], dt, *args, work)
    cpu_ms = (time.perf_counter() - t0) * 1e3 / max(steps - 1, 1)
    rel = float(np.max(np.abs(state.y - y) / np.maximum(np.abs(y), 1e-300)))
    deg = (net.in_degree_E, net.in_degree_I)
    pattern = (layout_bytes(params.N, deg[0], params.N_E)
               + layout_bytes(params.N, deg[1], params.N_I))
    widest = (layout_bytes(params.N, int(deg[0].max()), params.N_E)
              + layout_bytes(params.N, int(deg[1].max()), params.N_I))
    ok = bad < 0 and rel < TOLERANCE and np.isfinite(y).all()
    print(f"{params.connectivity:15s} u_cv={params.u_cv} tau_D_cv={params.tau_D_cv} "
          f"N={params.N} c={params.c} K_iE {deg[0].min()}..{deg[0].max()} K_iI "
          f"{deg[1].min()}..{deg[1].max()} steps={steps} dt={dt:.4g}: rel diff {rel:.2e} "
          f"({'ok' if ok else 'FAILED'}, < {TOLERANCE:g}); GPU {gpu_ms:.3f} ms/step, "
          f"CPU {cpu_ms:.1f} ms/step; pattern {pattern / 1e6:.1f} MB (one width for all rows: "
          f"{widest / 1e6:.1f} MB), device {device_bytes(params, 'float64', eng.S, deg) / 1e6:.1f}"
          f" MB, S={eng.S}", flush=True)
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--N", type=int, default=20000)
    ap.add_argument("--c", type=float, default=0.1)
    ap.add_argument("--J0", type=float, default=1.5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    het = ModelParams(N=a.N, J0=a.J0, c=a.c, connectivity="indegree_cv", indegree_cv=0.2,
                      indegree_rho=0.5, u_cv=0.3, tau_D_cv=0.3)
    ok = [one(p, a.steps, a.seed) for p in (het, het.replace(connectivity="erdos_renyi",
                                                             indegree_cv=0.0, indegree_rho=0.0),
                                             ModelParams(N=a.N, J0=a.J0, c=a.c))]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
