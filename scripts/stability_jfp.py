"""Rule jfp_search: J_FP of one realization (N, seed) from its sparse Jacobian
(stability.jfp.method: dense solvers up to N = 4000, the matrix-free one at any N)."""
import time

import numpy as np

from stdnet.bulk import bulk_jfp
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.runtime import setup
from stdnet.stability import find_jfp, jfp_method, write_eigen_file

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
cfg = p.jfp
N, seed = int(p.N), int(p.seed)
model = ModelParams.from_config(p.model, N=N, J0=float(cfg["J0_range"][0]))
lo, hi = cfg["J0_range"]
if not lo < hi:
    raise ValueError(f"stability.jfp.J0_range: {cfg['J0_range']} must be increasing")
if not cfg["tol"] < cfg["step"]:
    raise ValueError(f"stability.jfp.tol: {cfg['tol']} must be smaller than "
                     f"stability.jfp.step ({cfg['step']})")
try:  # before any work: the dense solvers refuse large N
    solver = jfp_method(cfg["method"], N, cfg["dense_max_N"])
except ValueError as err:
    raise ValueError(f"config key 'stability.jfp.method': {err}") from None
t0 = time.perf_counter()
J_bulk, w_bulk = bulk_jfp(model, N, J0_range=(lo, hi))
start = cfg["J0_start"] if cfg["J0_start"] is not None else (J_bulk if np.isfinite(J_bulk)
                                                              else 0.5 * (lo + hi))
start = min(max(start, lo), hi)
log.info("N=%d seed=%d: bulk theory J_FP = %.4f (omega %.3f); search starts at %.3f "
         "(solver %s)", N, seed, J_bulk, w_bulk, start, solver)
net = build_network(model, seed)
targets = [complex(cfg["targets_re"], w) for w in cfg["targets_im"]]
res = find_jfp(model, net, J0_start=start, J0_range=(lo, hi), step=cfg["step"], tol=cfg["tol"],
               targets=targets, k=cfg["k"], maxiter=cfg["maxiter"],
               dense_max_N=cfg["dense_max_N"], freq_tol=cfg["freq_tol"], method=solver)
wall = time.perf_counter() - t0
log.info("N=%d seed=%d: J_FP = %.5f, crossing %s, frequency %.4f (%d evaluations, %.1f s)",
         N, seed, res.J_FP, res.crossing, res.frequency, len(res.evaluations), wall)
attrs = {"N": N, "seed": seed, **res.row(), "J_FP_bulk": J_bulk, "frequency_bulk": w_bulk,
         "wall_time_s": wall, "method": solver}
write_eigen_file(snakemake.output.h5, model, seed, attrs, res.spectra,  # noqa: F821
                 extra={"evaluations": np.array(res.evaluations).reshape(-1, 3)})
