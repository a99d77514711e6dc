"""What the figures of the dmf stage draw (stdnet.plotting.dmf), computed here so that
the figures only draw: the residual histories, which J0 and which DMF solution the
panels show, the DMF's distributions as densities next to the recorded samples, and
the fitted error curves e(K) = a + b K^power of the approach figure.
"""
from __future__ import annotations

import numpy as np

from stdnet.model.transfer import phi

POPS = ("E", "I")
#: the approach figure's fit curves: points, and how far they reach beyond the K of the data
FIT_CURVE_POINTS = 60
FIT_CURVE_MARGIN = 1.3


def convergence_runs(solutions: dict) -> list[dict]:
    """Residual history of every solve (convergence_figure); solutions: (N, J0, I0) ->
    read_dmf dict, N 0 for the balanced limit. Sorted by (N, J0, I0)."""
    return [{"N": int(k[0]), "J0": k[1], "I0": k[2], "residuals": d["residuals"],
             "converged": bool(d["converged"]), "tol": float(d["info"]["tol"])}
            for k, d in sorted(solutions.items())]


def panel_J0(fig_dmf, recorded_J0, I0: float) -> float:
    """J0 of panels A-B of Fig 5 and of the approach figure: the first chaotic J0 at I0,
    preferably one in recorded_J0 (input recordings at the figure's N); else the first
    chaotic J0, else the first J0."""
    at_I0 = fig_dmf[np.isclose(fig_dmf.I0, I0)]
    chaotic = sorted(at_I0[at_I0.chaotic].J0)
    return ([j for j in chaotic if np.any(np.isclose(j, recorded_J0))] or chaotic
            or sorted(at_I0.J0))[0]


def density(counts, edges) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and probability density of a histogram."""
    w = np.diff(edges)
    return 0.5 * (edges[1:] + edges[:-1]), counts / (counts.sum() * w)


def panel_curves(sol: dict, recs: list) -> tuple[dict, dict]:
    """Panels A-B of Fig 5 from a read_dmf dict and the input recordings (read_inputs
    with the h traces) at its point, averaged over them.

    acov: pop -> (DMF lags, DMF Delta(t), recorded lags, full, temporal autocovariance);
    hists: 'h' / 'nu' -> pop -> (DMF bin centres, DMF density, recorded samples of h or
    phi(h)); the recorded entries are None without recordings."""
    acov, hists = {}, {"h": {}, "nu": {}}
    transfer = sol["info"]["transfer"]
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
        hists["h"][pop] = (*density(hg["h_counts"], hg["h_edges"]), h)
        hists["nu"][pop] = (*density(hg["nu_counts"], hg["nu_edges"]),
                            None if h is None else phi(transfer, h))
    return acov, hists


def fit_curves(rel, fits) -> tuple[np.ndarray, dict]:
    """K grid over the K_E of `rel` (FIT_CURVE_MARGIN beyond either end) and, per
    quantity of `rel` with a fit in `fits` of status ok or unweighted, the fitted
    relative error e(K) = a + b K^power on it."""
    if rel.empty:
        return np.array([]), {}
    K = np.geomspace(rel.K_E.min() / FIT_CURVE_MARGIN, rel.K_E.max() * FIT_CURVE_MARGIN,
                     FIT_CURVE_POINTS)
    curves = {}
    for q in rel.quantity.unique():
        hit = fits[fits.quantity == q] if not fits.empty else fits
        fit = hit.iloc[0] if not hit.empty else None
        if fit is not None and fit["status"] in ("ok", "unweighted"):
            curves[q] = fit["a"] + fit["b"] * K ** fit["power"]
    return K, curves


def figure_inputs(dmf, sim, table, fits, solutions: dict, inputs: dict, read_recording, *,
                  figure_N: int, I0: float, dmf_config: dict, model_config: dict):
    """Keyword arguments of fig5_figure and approach_figure (stdnet.plotting.dmf).

    dmf: dmf.compare.dmf_table; sim: one row per simulation; table, fits: the
    discrepancy table and its error fits; solutions: (N, J0, I0) -> read_dmf dict (N 0:
    balanced limit); inputs: (N, J0, seed) -> (path, read_inputs dict); read_recording:
    path -> read_inputs dict with the h traces (read only for the panels' point)."""
    fig_dmf = dmf[(dmf.dmf_N == figure_N) | ~dmf.dmf_finite_K.astype(bool)]
    J0 = panel_J0(fig_dmf, [k[1] for k in inputs if k[0] == figure_N], I0)
    sol = next(d for (n, j, i), d in solutions.items()
               if n in (figure_N, 0) and np.isclose(j, J0) and np.isclose(i, I0))
    recs = [read_recording(path) for k, (path, _) in inputs.items()
            if k[0] == figure_N and np.isclose(k[1], J0)]
    acov, hists = panel_curves(sol, recs)
    finite = bool(dmf_config["finite_K"])
    info = {"J0_panel": J0, "N_sim": figure_N, "I0_sim": I0, "finite_K": finite,
            "N_dmf": figure_N if finite else None,
            "K_E_dmf": int(fig_dmf.dmf_K_E.iloc[0]) if finite and not fig_dmf.empty else None,
            "one_minus_c": dmf_config["one_minus_c"], "shared_input": dmf_config["shared_input"]}
    fig5 = {"dmf": fig_dmf, "sim": sim[sim.N == figure_N], "acov": acov, "hists": hists,
            "info": info}
    solver = sol["info"]
    rel = table[np.isclose(table.J0, J0)] if not table.empty else table
    rel = rel[rel.dmf_chaotic] if not rel.empty else rel
    fit_panel = fits[np.isclose(fits.J0, J0)] if not fits.empty else fits
    approach = {"rel": rel, "fits": fit_panel, "curves": fit_curves(rel, fit_panel),
                "info": {**info, "c": model_config["c"], "f_E": model_config["f_E"],
                         "n_paths": solver["n_paths"], "t_path": solver["t_path"],
                         "max_lag": solver["max_lag"], "dt": solver["dt"]}}
    return fig5, approach
