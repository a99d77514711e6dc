"""Figures of the dmf stage: DMF vs simulation (paper Fig 5), convergence of the
DMF iteration, approach of the simulations to the DMF with N, and the
cancellation of input correlations vs N."""
from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from . import POP_COLORS, caption, use_style

PART_COLORS = {"E": POP_COLORS["E"], "I": POP_COLORS["I"], "total": "0.1", "EI": "#8e44ad"}
PART_LABELS = {"E": "E part", "I": "I part", "total": "total (E + I)",
               "EI": "2 × E-I cross"}  # total = E + I + 2 x cross, pair-averaged


def _fit_line(ax, fits, J0, q, Ns, color, ls="-", scale=1.0):
    row = fits[(fits.J0 == J0) & (fits.quantity == q)]
    if row.empty or not np.isfinite(row.exponent.iloc[0]):
        return ""
    r = row.iloc[0]
    n = np.geomspace(min(Ns), max(Ns), 20)
    ax.plot(n, scale * r.prefactor * n ** r.exponent, ls=ls, color=color, lw=1, alpha=0.8)
    err = f" ± {r.stderr:.2f}" if np.isfinite(r.stderr) else ""
    return f" (N^{r.exponent:.2f}{err})"


def _loglog_points(ax, table, q, color, label, marker="o", scale=1.0):
    """Seed means with their spread; filled markers where > 0, open where < 0."""
    g = table.groupby("N")[q]
    N = np.array(sorted(table.N.unique()))
    m = g.mean().reindex(N).to_numpy() * scale
    lo = g.min().reindex(N).to_numpy() * scale
    hi = g.max().reindex(N).to_numpy() * scale
    pos = m > 0
    ax.errorbar(N, np.abs(m), yerr=[np.abs(np.abs(m) - np.abs(lo)), np.abs(np.abs(hi) - np.abs(m))],
                fmt="none", ecolor=color, alpha=0.5)
    ax.plot(N[pos], np.abs(m[pos]), marker, color=color, label=label, ms=6)
    if (~pos).any():
        ax.plot(N[~pos], np.abs(m[~pos]), marker, mfc="none", color=color,
                label=None if pos.any() else label + " (< 0)", ms=6)


def correlations_figure(table, fits, examples):
    """Mean pairwise covariances of the E, I and total inputs vs N, correlation
    coefficients, variance of population rates, and a cancellation example."""
    use_style()
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.5))
    if table.empty:
        for ax in axes.flat:
            ax.axis("off")
        axes[0, 0].text(0, 0.5, "no chaotic runs in the grid (dmf.correlations.J0 empty)")
        return fig
    J0 = max(table.J0.unique())
    t = table[table.J0 == J0]
    Ns = sorted(t.N.unique())
    for col, pop in enumerate(("E", "I")):
        ax = axes[0, col]
        for part in ("E", "I", "total", "EI"):
            q = f"{pop}.{part}.cov"
            k = 2.0 if part == "EI" else 1.0
            lab = PART_LABELS[part] + _fit_line(ax, fits, J0, q, Ns, PART_COLORS[part], scale=k)
            _loglog_points(ax, t, q, PART_COLORS[part], lab, scale=k)
        ax.set(xscale="log", yscale="log", xlabel="N",
               ylabel="|mean pairwise covariance| of inputs",
               title=f"{pop} targets: input covariances (open: < 0)")
        ax.legend(fontsize=7)
    ax = axes[0, 2]
    for pop, ls, mk in (("E", "-", "o"), ("I", "--", "s")):
        for part in ("E", "I", "total"):
            q = f"{pop}.{part}.corr"
            lab = f"{pop} targets, {PART_LABELS[part]}" + _fit_line(ax, fits, J0, q, Ns,
                                                                   PART_COLORS[part], ls)
            _loglog_points(ax, t, q, PART_COLORS[part], lab, marker=mk)
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="|mean pairwise correlation coefficient|",
           title="correlation coefficients")
    ax.legend(fontsize=6)
    ax = axes[1, 0]
    for pop in ("E", "I"):
        q = f"var_pop_nu_{pop}"
        lab = f"population {pop}" + _fit_line(ax, fits, J0, q, Ns, POP_COLORS[pop])
        _loglog_points(ax, t, q, POP_COLORS[pop], lab)
    n = np.geomspace(min(Ns), max(Ns), 10)
    ref = t[t.N == Ns[0]]["var_pop_nu_E"].mean()
    ax.plot(n, ref * Ns[0] / n, ":", color="0.5", label="∝ 1/N (independent neurons)")
    ax.set(xscale="log", yscale="log", xlabel="N",
           ylabel="variance of population-averaged rate", title="population rate fluctuations")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    for pop in ("E", "I"):
        q = f"{pop}.total.var"
        lab = f"{pop} targets, total input" + _fit_line(ax, fits, J0, q, Ns, POP_COLORS[pop])
        _loglog_points(ax, t, q, POP_COLORS[pop], lab)
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="single-neuron input variance",
           title="single-neuron fluctuations stay finite")
    ax.legend(fontsize=7)
    ax = axes[1, 2]
    rec = examples.get((J0, max(Ns)))
    if rec is not None:
        nE = int(rec["n_E"])
        sl = slice(nE, None)  # I targets: the larger parts
        tt = rec["time"]
        for part, X in (("E", rec["E"][:, sl]), ("I", rec["I"][:, sl]),
                        ("total", rec["E"][:, sl] + rec["I"][:, sl])):
            m = X.mean(axis=1)
            ax.plot(tt - tt[0], m - m.mean(), color=PART_COLORS[part], lw=1,
                    label=f"{PART_LABELS[part]}, averaged over {X.shape[1]} I neurons")
        ax.set(xlabel="time (τ)", ylabel="input − its mean",
               title=f"cancellation at N = {max(Ns)}")
        ax.legend(fontsize=7)
    caption(fig, f"Pairwise input correlations at J0 = {J0:g}: mean over pairs of sampled neurons "
                 "of the temporal covariance (top left/middle) and correlation coefficient (top "
                 "right) of the E part, I part (<= 0) and total synaptic input, and twice the E-I "
                 "cross covariance (total = E + I + 2 cross); symbols: mean over seeds, bars: seed range; lines: power-law fits "
                 "over all seeds (exponent ± standard error). Bottom: variance of the "
                 "population-averaged rates, single-neuron input variance, and the "
                 "population-averaged E and I parts of I neurons' input at the largest N.")
    fig.tight_layout()
    return fig


def convergence_figure(runs):
    """Residual per iteration of every DMF solve; runs: list of dicts with J0, I0,
    residuals, tol, converged."""
    use_style()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    cmap = plt.get_cmap("viridis")
    J0s = sorted({r["J0"] for r in runs})
    I0s = sorted({r["I0"] for r in runs})
    styles = ["-", "--", ":", "-."]
    for r in runs:
        c = cmap(J0s.index(r["J0"]) / max(len(J0s) - 1, 1))
        ls = styles[I0s.index(r["I0"]) % len(styles)]
        it = np.arange(1, len(r["residuals"]) + 1)
        ax.semilogy(it, r["residuals"], ls=ls, color=c,
                    label=f"J0={r['J0']:g}, I0={r['I0']:g}" + ("" if r["converged"] else " (NOT converged)"))
    if runs:
        ax.axhline(runs[0]["tol"], color="k", lw=0.8, ls=":", label="tolerance")
    ax.set(xlabel="iteration", ylabel="residual (max relative change of Δ, μ)",
           title="DMF convergence")
    ax.legend(fontsize=6, ncol=2)
    caption(fig, "Damped iteration of the DMF with frozen path noise: residual per iteration "
                 "for every (J0, I0) solve.")
    return fig


def fig5_figure(dmf, sim, acov, hists, info):
    """Paper Fig 5: DMF (lines) vs simulation (symbols).

    dmf: DataFrame per (J0, I0) with mu_, nu_, var_, tau_dec_ per pop;
    sim: DataFrame per (N, J0, seed) of simulation observables at the largest N;
    acov: dict pop -> (dmf lags, dmf delta, sim lags, sim full, sim temporal);
    hists: dict with 'h'/'nu' -> pop -> (dmf counts, edges, sim samples)."""
    use_style()
    fig, axes = plt.subplots(2, 4, figsize=(17, 8))
    for k, (pop, (l_d, d_d, l_s, full_s, temp_s)) in enumerate(acov.items()):
        ax = axes[0, k]
        c = POP_COLORS[pop]
        ax.plot(l_d, d_d, color=c, label=f"{pop}: DMF Δ(t)")
        if l_s is not None:
            step = max(1, len(l_s) // 40)
            ax.plot(l_s[::step], full_s[::step], "o", color=c, mfc="none", ms=4,
                    label=f"{pop}: simulation")
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set(xlabel="lag t (τ)", ylabel=f"autocovariance of {pop} inputs h",
               title=f"A  {pop} input autocovariance, J0 = {info['J0_panel']:g}")
        ax.legend(fontsize=7)
    for k, (key, xl) in enumerate((("h", "input h"), ("nu", "rate ν"))):
        ax = axes[0, 2 + k]
        for pop, (counts, edges, samples) in hists.get(key, {}).items():
            c = POP_COLORS[pop]
            w = np.diff(edges)
            ax.plot(0.5 * (edges[1:] + edges[:-1]), counts / (counts.sum() * w), color=c,
                    label=f"{pop}: DMF")
            if samples is not None:
                ax.hist(samples, bins=60, density=True, histtype="step", color=c, ls="--",
                        label=f"{pop}: simulation")
        ax.set(xlabel=f"{xl}", ylabel="probability density", yscale="log",
               title=f"B  distribution of {xl}")
        ax.legend(fontsize=7)
    panels = [("nu", "mean rate ν", "C"), ("mu", "mean input μ", "D"),
              ("var", "input variance Δ(0)", "E"), ("tau_dec", "decorrelation time (τ)", "F")]
    slots = [axes[1, 0], axes[1, 1], axes[1, 2], axes[1, 3]]
    I0s = sorted(dmf.I0.unique())
    styles = ["-", "--", ":", "-."]
    for (q, lab, letter), ax in zip(panels, slots):
        for pop in ("E", "I"):
            c = POP_COLORS[pop]
            for j, I0 in enumerate(I0s):
                d = dmf[dmf.I0 == I0].sort_values("J0")
                ax.plot(d.J0, d[f"{q}_{pop}"], ls=styles[j % 4], color=c, marker=".",
                        label=f"{pop}: DMF, I0 = {I0:g}")
            if not sim.empty and f"{q}_{pop}" in sim:
                g = sim.groupby("J0")[f"{q}_{pop}"]
                ax.errorbar(g.mean().index, g.mean(), yerr=g.std().fillna(0), fmt="o",
                            mfc="none", color=c, capsize=2,
                            label=f"{pop}: simulation N = {info['N_sim']}, I0 = {info['I0_sim']:g}")
        if q == "var":
            ax.set_yscale("symlog", linthresh=1e-3)
        ax.set(xlabel="J0", ylabel=lab, title=f"{letter}  {lab}")
        ax.legend(fontsize=6)
    caption(fig, f"DMF (lines; finite_K={info['finite_K']} with N = {info['N_finite']}, "
                 f"one_minus_c={info['one_minus_c']}, shared_input={info['shared_input']}) vs "
                 f"simulations (symbols: mean ± sd over seeds, N = {info['N_sim']}; simulations "
                 f"exist only at I0 = {info['I0_sim']:g}). A: Δ(t) incl. the static part; "
                 "B: distributions over neurons and time; C-F vs J0. The decorrelation time is "
                 "the 1/e time of the temporal autocovariance (docs/dmf.md).")
    fig.tight_layout()
    return fig


def approach_figure(rel):
    """Relative discrepancy |sim - DMF| / |DMF| vs N per quantity (DataFrame with
    N, J0, quantity, rel_error)."""
    use_style()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if rel.empty:
        ax.text(0.1, 0.5, "no chaotic DMF solution to compare with")
        return fig
    for (q, J0), g in rel.groupby(["quantity", "J0"]):
        g = g.groupby("N").rel_error.mean()
        ax.plot(g.index, g.values, "o-", label=f"{q}, J0 = {J0:g}")
    ax.set(xscale="log", yscale="log", xlabel="N", ylabel="|simulation − DMF| / |DMF|",
           title="approach of the simulations to the DMF")
    ax.legend(fontsize=6, ncol=2)
    caption(fig, "Relative discrepancy between simulation (mean over seeds) and DMF at the same "
                 "(J0, I0) vs network size, for the chaotic J0 values.")
    return fig
