"""Rule dmf_compare: every simulated N against the finite-K DMF of that N (paper Fig 5),
the relative errors vs K and their 1/sqrt(K) fits, the convergence of the solves."""
import numpy as np
import pandas as pd

from stdnet.correlations import read_inputs
from stdnet.dmf import read_dmf
from stdnet.dmfcompare import discrepancy_table, dmf_table, error_fits, simulation_row
from stdnet.io import atomic_path
from stdnet.plotting import save_figure
from stdnet.plotting.dmf import approach_figure, convergence_figure, fig5_figure
from stdnet.runtime import setup
from stdnet.simulate import read_simulation
from stdnet.transfer import phi

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
inp, out, prm = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
cfg = prm.dmf
POPS = ("E", "I")
I0_sim = float(prm.model_I0)


def write_csv(frame, path):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


# ---- DMF solutions ----------------------------------------------------------
solutions = {}
for path in inp.dmf:
    d = read_dmf(path)
    info = d["info"]
    solutions[(int(info.get("N", 0)), float(info["J0"]), float(info["I0"]))] = d
dmf = dmf_table(solutions.values())
runs = [{"N": int(k[0]), "J0": k[1], "I0": k[2], "residuals": d["residuals"],
         "converged": bool(d["converged"]), "tol": float(d["info"]["tol"])}
        for k, d in sorted(solutions.items())]
for r in dmf[~dmf.converged].itertuples():
    log.warning("DMF at N=%g, J0=%g, I0=%g did not converge", r.dmf_N, r.J0, r.I0)
log.info("DMF solves: %d, wall time per solve: median %.1f s, max %.1f s", len(dmf),
         dmf.wall_time_s.median(), dmf.wall_time_s.max())

# ---- simulations: the grid's and the correlation recordings' ------------------
inputs, paths = {}, {}
for path in inp.inputs:
    # the autocovariances and params only: the recordings would need ~15 MB each
    d = read_inputs(path, recording=("n_E",))
    p = d["params"]
    inputs[(int(p["N"]), float(p["J0"]), int(p["seed"]))] = d
    paths[(int(p["N"]), float(p["J0"]), int(p["seed"]))] = path
rows = []
for path in inp.sims:
    s = read_simulation(path)
    p = s["params"]
    key = (int(p["N"]), float(p["J0"]), int(p["seed"]))
    rows.append(simulation_row(s, inputs.get(key), prm.corr_max_lag))
sim = pd.DataFrame(rows)

# ---- errors per N against the DMF of that N, and their fits in K ---------------
table, unmatched = discrepancy_table(sim, dmf, I0_sim)
for N, J0 in unmatched:
    log.info("no DMF solution for N=%d, J0=%g (not in dmf.J0): not compared", N, J0)
fits = error_fits(table)
write_csv(table, out.table)
write_csv(fits, out.fits)
for r in fits.itertuples():
    log.info("J0=%g %s: e(K) = a + b K^-1/2, a = %.3g [%.3g, %.3g], b = %.3g [%.3g, %.3g], "
             "chi2 = %.3g on %d dof (p = %.3g): %s", r.J0, r.quantity, r.a, r.a_lo, r.a_hi,
             r.b, r.b_lo, r.b_hi, r.chi2, r.dof, r.p_lack_of_fit, r.verdict)

# ---- figures --------------------------------------------------------------------
N_fig = int(prm.figure_N)
fig_dmf = dmf[(dmf.dmf_N == N_fig) | ~dmf.dmf_finite_K.astype(bool)]
at_I0 = fig_dmf[np.isclose(fig_dmf.I0, I0_sim)]
# panels A-B at the first chaotic J0, preferably one with input recordings at N_fig
recorded = [k[1] for k in inputs if k[0] == N_fig]
chaotic = sorted(at_I0[at_I0.chaotic].J0)
J0_panel = ([j for j in chaotic if np.any(np.isclose(j, recorded))] or chaotic
            or sorted(at_I0.J0))[0]
sol = next(d for (n, j, i), d in solutions.items()
           if n in (N_fig, 0) and np.isclose(j, J0_panel) and np.isclose(i, I0_sim))
acov, hists = {}, {"h": {}, "nu": {}}
transfer = sol["info"]["transfer"]
recs = [read_inputs(paths[k], recording=("n_E", "h")) for k in inputs
        if k[0] == N_fig and np.isclose(k[1], J0_panel)]
for a, pop in enumerate(POPS):
    if recs:
        lags = recs[0]["autocov"]["lags"]
        full = np.mean([r["autocov"][f"{pop}_full"] for r in recs], axis=0)
        temporal = np.mean([r["autocov"][f"{pop}_temporal"] for r in recs], axis=0)
        nE = int(recs[0]["recording"]["n_E"])
        sl = slice(0, nE) if pop == "E" else slice(nE, None)
        h = np.concatenate([r["recording"]["h"][:, sl].ravel() for r in recs])
    else:
        lags = full = temporal = h = None
    acov[pop] = (sol["lags"], sol["delta"][a], lags, full, temporal)
    hg = sol["hist"][pop]
    hists["h"][pop] = (hg["h_counts"], hg["h_edges"], h)
    hists["nu"][pop] = (hg["nu_counts"], hg["nu_edges"], None if h is None else phi(transfer, h))
finite = bool(cfg["finite_K"])
info = {"J0_panel": J0_panel, "N_sim": N_fig, "I0_sim": I0_sim, "finite_K": finite,
        "N_dmf": N_fig if finite else None,
        "K_E_dmf": int(fig_dmf.dmf_K_E.iloc[0]) if finite and not fig_dmf.empty else None,
        "one_minus_c": cfg["one_minus_c"], "shared_input": cfg["shared_input"]}
save_figure(fig5_figure(fig_dmf, sim[sim.N == N_fig], acov, hists, info), out.fig5, out.fig5_pdf)
save_figure(convergence_figure(runs), out.convergence, out.convergence_pdf)
solver = sol["info"]
approach_info = {**info, "c": prm.model["c"], "f_E": prm.model["f_E"],
                 "n_paths": solver["n_paths"], "t_path": solver["t_path"],
                 "max_lag": solver["max_lag"], "dt": solver["dt"]}
rel = table[np.isclose(table.J0, J0_panel)] if not table.empty else table
fit_panel = fits[np.isclose(fits.J0, J0_panel)] if not fits.empty else fits
save_figure(approach_figure(rel, fit_panel, approach_info), out.approach, out.approach_pdf)
log.info("wrote %s, %s and figures", out.table, out.fits)
