"""Rule fig8_routes: spectra just below/above J_FP for one realization of each crossing
kind, with the activity just above it (paper Fig 8A-B)."""
import numpy as np
import pandas as pd

from stdnet.io import atomic_h5, write_attrs
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.plotting import save_figure
from stdnet.plotting.stability import routes_figure
from stdnet.runtime import setup
from stdnet.spectrum import jacobian_blocks, rightmost_eigenvalues
from stdnet.stability import short_run

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
cfg, m = p.routes, p.model
jfp = pd.read_csv(snakemake.input.jfp)  # noqa: F821
N = int(p.N)
cases = []
for kind in ("hopf", "real"):
    g = jfp[(jfp.N == N) & (jfp.crossing == kind)].sort_values("seed")
    if g.empty:
        log.info("N=%d: no realization with a %s crossing", N, kind)
        continue
    row = g.iloc[0]
    seed = int(row.seed)
    J_lo, J_hi = float(row.J_FP) - cfg["dJ"], float(row.J_FP) + cfg["dJ"]
    base = ModelParams.from_config(m, N=N, J0=J_lo)
    net = build_network(base, seed)
    method = "dense" if N <= 1500 else "shift_invert"
    ev = {J: rightmost_eigenvalues(jacobian_blocks(base.replace(J0=J), net), method=method)
          for J in (J_lo, J_hi)}
    sim = short_run(base.replace(J0=J_hi), seed, cfg["t_sim"], dt=p.dt, network=net)
    res = sim.result()
    cases.append({"kind": kind, "seed": seed, "J_FP": float(row.J_FP), "J_lo": J_lo,
                  "J_hi": J_hi, "ev_lo": ev[J_lo], "ev_hi": ev[J_hi], "t": res["time"],
                  "nu": res["recorded"]["nu"], "n_E": int(sim.rec_E.size)})
    log.info("%s: seed %d, J_FP %.4f; rightmost above %.4f%+.4fi", kind, seed, row.J_FP,
             ev[J_hi][0].real, abs(ev[J_hi][0].imag))
with atomic_h5(snakemake.output.h5) as f:  # noqa: F821
    write_attrs(f.create_group("params"), {**m, "N": N, **cfg, "dt": p.dt})
    for c in cases:
        g = f.create_group(c["kind"])
        write_attrs(g, {k: c[k] for k in ("seed", "J_FP", "J_lo", "J_hi", "n_E")})
        for k in ("ev_lo", "ev_hi", "t", "nu"):
            g.create_dataset(k, data=np.asarray(c[k]))
text = (f"Spectra of the (N + N_E)-dimensional Jacobian at the homogeneous fixed point, "
        f"N = {N}, just below (grey) and above (colour) J_FP ± {cfg['dJ']} for one "
        "realization of each kind of crossing (dense eig for N <= 1500, otherwise the "
        "eigenvalues near the right edge). Insets: rates of recorded E (red) and I (blue) "
        f"neurons simulated for {cfg['t_sim']:g} τ just above J_FP (RK4, dt = {p.dt}). "
        f"g = ({m['g_EE']}, {m['g_EI']}, {m['g_IE']}, {m['g_II']}), u = {m['u']}, "
        f"τ_D = {m['tau_D']} τ, c = {m['c']}, I0 = {m['I0']}.")
save_figure(routes_figure(cases, text), snakemake.output.png, snakemake.output.pdf)  # noqa: F821
