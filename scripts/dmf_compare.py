"""Rule dmf_compare: DMF vs simulations (paper Fig 5), convergence and approach with N."""
import numpy as np
import pandas as pd

from stdnet.correlations import read_inputs, recorded_decorrelation_times, simulation_observables
from stdnet.dmf import decorrelation_time, read_dmf
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

# ---- DMF solutions ----------------------------------------------------------
rows, runs, solutions = [], [], {}
for path in inp.dmf:
    d = read_dmf(path)
    J0, I0 = float(d["info"]["J0"]), float(d["info"]["I0"])
    solutions[(J0, I0)] = d
    tau = d["decorrelation_time"]
    row = {"J0": J0, "I0": I0, "converged": bool(d["converged"]),
           "iterations": int(d["iterations"]), "wall_time_s": float(d["wall_time_s"]),
           "x": float(d["x_mean"][0]), "nu_E": float(d["signal_means"][0]),
           "nu_I": float(d["signal_means"][2])}
    for a, pop in enumerate(POPS):
        row.update({f"mu_{pop}": float(d["mu"][a]), f"var_{pop}": float(d["delta"][a, 0]),
                    f"var_static_{pop}": float(d["q"][a]),
                    f"var_temporal_{pop}": float(d["delta"][a, 0] - d["q"][a]),
                    f"tau_dec_{pop}": float(tau[a])})
    rows.append(row)
    runs.append({"J0": J0, "I0": I0, "residuals": d["residuals"], "converged": bool(d["converged"]),
                 "tol": float(d["info"]["tol"])})
    if not d["converged"]:
        log.warning("DMF at J0=%g, I0=%g did not converge (residual %.3g)", J0, I0,
                    d["residuals"][-1])
dmf = pd.DataFrame(rows).sort_values(["I0", "J0"])
# chaotic: temporal input fluctuations survive (a fixed point has none)
dmf["chaotic"] = dmf[["var_temporal_E", "var_temporal_I"]].max(axis=1) > 1e-3
log.info("DMF solves: %d, wall time per solve: median %.1f s, max %.1f s", len(dmf),
         dmf.wall_time_s.median(), dmf.wall_time_s.max())

# ---- simulations ------------------------------------------------------------
inputs = {}
for path in inp.inputs:
    d = read_inputs(path)
    p = d["params"]
    inputs[(int(p["N"]), float(p["J0"]), int(p["seed"]))] = d
sims = []
max_lag = cfg["correlations"]["max_lag"]
for path in inp.sims:
    s = read_simulation(path)
    p = s["params"]
    key = (int(p["N"]), float(p["J0"]), int(p["seed"]))
    row = {"N": key[0], "J0": key[1], "seed": key[2], **simulation_observables(s)}
    if key in inputs:  # the longer continuation with more neurons
        ac = inputs[key]["autocov"]
        for pop in POPS:
            row[f"tau_dec_{pop}"] = decorrelation_time(ac["lags"], ac[f"{pop}_temporal"])
    else:
        row.update(recorded_decorrelation_times(s, max_lag))
    sims.append(row)
sim = pd.DataFrame(sims)
N_sim = int(sim.N.max())
I0_sim = float(prm.model_I0)

# ---- discrepancy table ---------------------------------------------------------
QUANT = [f"{q}_{pop}" for q in ("nu", "mu", "var", "var_temporal", "var_static", "tau_dec")
         for pop in POPS] + ["x"]
table = []
for (N, J0), g in sim.groupby(["N", "J0"]):
    ref = dmf[(np.isclose(dmf.J0, J0)) & (np.isclose(dmf.I0, I0_sim))]
    if ref.empty:
        continue
    ref = ref.iloc[0]
    chaotic = ref.chaotic
    for q in QUANT:
        m, sd, dv = g[q].mean(), g[q].std(), ref[q]
        table.append({"N": N, "J0": J0, "I0": I0_sim, "quantity": q, "sim_mean": m,
                      "sim_sd": sd, "n_seeds": int(g[q].notna().sum()), "dmf": dv,
                      "abs_error": abs(m - dv),
                      "rel_error": abs(m - dv) / abs(dv) if dv != 0 else np.nan,
                      "dmf_chaotic": bool(chaotic), "dmf_converged": bool(ref.converged)})
table = pd.DataFrame(table)
with atomic_path(out.table) as tmp:
    table.to_csv(tmp, index=False)
big = table[(table.N == N_sim) & table.dmf_chaotic] if not table.empty else table
for _, r in big.iterrows():
    log.info("N=%d J0=%g %s: simulation %.4g +- %.2g, DMF %.4g, relative discrepancy %.1f%%",
             r.N, r.J0, r.quantity, r.sim_mean, r.sim_sd, r.dmf, 100 * r.rel_error)

# ---- figures --------------------------------------------------------------------
chaotic_J0 = sorted({k[1] for k in inputs}) or sorted(dmf[dmf.chaotic].J0)
J0_panel = chaotic_J0[0] if chaotic_J0 else float(dmf.J0.max())
sol = solutions.get((J0_panel, I0_sim)) or solutions[min(solutions)]
acov, hists = {}, {"h": {}, "nu": {}}
transfer = sol["info"]["transfer"]
for a, pop in enumerate(POPS):
    recs = [v for k, v in inputs.items() if k[0] == N_sim and k[1] == J0_panel]
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
info = {"J0_panel": J0_panel, "N_sim": N_sim, "I0_sim": I0_sim, "finite_K": cfg["finite_K"],
        "N_finite": prm.N_finite, "one_minus_c": cfg["one_minus_c"],
        "shared_input": cfg["shared_input"]}
save_figure(fig5_figure(dmf, sim[sim.N == N_sim], acov, hists, info), out.fig5, out.fig5_pdf)
save_figure(convergence_figure(runs), out.convergence, out.convergence_pdf)
rel = big = table[table.dmf_chaotic & table.quantity.isin(
    [f"{q}_{p}" for q in ("nu", "var", "tau_dec") for p in POPS])] if not table.empty else table
save_figure(approach_figure(rel), out.approach, out.approach_pdf)
log.info("wrote %s and figures", out.table)
