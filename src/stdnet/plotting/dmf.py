"""Figures of the dmf stage: DMF vs simulation (paper Fig 5), convergence of the
DMF iteration, and the relative error of the simulations against the DMF of their
own N vs K with its 1/sqrt(K) fits (docs/dmf.md §8)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from stdnet.plotting import POP_COLORS, caption, use_style


def _dmf_label(N) -> str:
    return "K → ∞" if not N else f"N={N}"


def convergence_figure(runs):
    """Residual per iteration of every DMF solve; runs: list of dicts with N (0 = the
    balanced limit), J0, I0, residuals, tol, converged."""
    use_style()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    cmap = plt.get_cmap("viridis")
    J0s = sorted({r["J0"] for r in runs})
    Ns = sorted({r.get("N", 0) for r in runs})
    styles = ["-", "--", ":", "-."]
    labelled = len(runs) <= 24  # beyond that a legend hides the curves
    for r in runs:
        c = cmap(J0s.index(r["J0"]) / max(len(J0s) - 1, 1))
        ls = styles[Ns.index(r.get("N", 0)) % len(styles)]
        it = np.arange(1, len(r["residuals"]) + 1)
        flag = "" if r["converged"] else " (NOT converged)"
        ax.semilogy(it, r["residuals"], ls=ls, color=c, lw=1 if r["converged"] else 2,
                    label=(f"{_dmf_label(r.get('N', 0))}, J0={r['J0']:g}, I0={r['I0']:g}{flag}"
                           if labelled or not r["converged"] else None))
    if runs:
        ax.axhline(runs[0]["tol"], color="k", lw=0.8, ls=":", label="tolerance")
    ax.set(xlabel="iteration", ylabel="residual (max relative change of Δ, μ)",
           title="DMF convergence")
    ax.legend(fontsize=6, ncol=2)
    n_bad = sum(not r["converged"] for r in runs)
    caption(fig, f"Damped iteration of the DMF with frozen path noise: residual per iteration "
                 f"for each of the {len(runs)} (N, J0, I0) solves (colour: J0 from "
                 f"{min(J0s, default=0):g} to {max(J0s, default=0):g}, viridis; line style: N); "
                 f"{n_bad} did not reach the tolerance.")
    return fig


def fig5_figure(dmf, sim, acov, hists, info):
    """Paper Fig 5: DMF (lines) vs simulation (symbols).

    dmf: DataFrame per (J0, I0) with mu_, nu_, var_, tau_dec_ per pop, the DMF at the
    figure's N (or the balanced limit);
    sim: DataFrame per (N, J0, seed) of simulation observables at that N;
    acov: dict pop -> (dmf lags, dmf delta, sim lags, sim full, sim temporal);
    hists: dict with 'h'/'nu' -> pop -> (dmf bin centres, dmf density, sim samples);
    built by stdnet.dmf.figdata.figure_inputs."""
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
        for pop, (centres, dens, samples) in hists.get(key, {}).items():
            c = POP_COLORS[pop]
            ax.plot(centres, dens, color=c, label=f"{pop}: DMF")
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
    where = (f"finite K at the simulations' N = {info['N_dmf']}, K_E = {info['K_E_dmf']}"
             if info["finite_K"] else "balanced limit K → ∞")
    caption(fig, f"DMF (lines; {where}, "
                 f"one_minus_c={info['one_minus_c']}, shared_input={info['shared_input']}) vs "
                 f"simulations (symbols: mean ± sd over seeds, N = {info['N_sim']}; simulations "
                 f"exist only at I0 = {info['I0_sim']:g}). A: Δ(t) incl. the static part; "
                 "B: distributions over neurons and time; C-F vs J0. The decorrelation time is "
                 "the 1/e time of the temporal autocovariance (docs/dmf.md).")
    fig.tight_layout()
    return fig


# quantity groups of the approach figure, and their symbols
APPROACH_PANELS = (("A  rates and efficacy", ("nu_E", "nu_I", "x")),
                   ("B  mean inputs", ("mu_E", "mu_I")),
                   ("C  input variance Δ(0)", ("var_E", "var_I")),
                   ("D  temporal part Δ(0) − q (relative to Δ(0))",
                    ("var_temporal_E", "var_temporal_I")),
                   ("E  static part q (relative to Δ(0))", ("var_static_E", "var_static_I")),
                   ("F  decorrelation time", ("tau_dec_E", "tau_dec_I")))
SYMBOLS = {"nu_E": "ν_E", "nu_I": "ν_I", "x": "x", "mu_E": "μ_E", "mu_I": "μ_I",
           "var_E": "Δ_E(0)", "var_I": "Δ_I(0)", "var_temporal_E": "Δ_E(0) − q_E",
           "var_temporal_I": "Δ_I(0) − q_I", "var_static_E": "q_E", "var_static_I": "q_I",
           "tau_dec_E": "τ_dec,E", "tau_dec_I": "τ_dec,I"}


def _quantity_color(q: str) -> str:
    return POP_COLORS["x"] if q == "x" else POP_COLORS[q[-1]]


def _fit_label(fit) -> str:
    """a with its interval (in %) and the lack-of-fit p; ✓ where the error is consistent
    with one that vanishes like K^(-1/2)."""
    if fit is None or fit["status"] not in ("ok", "unweighted"):
        return " (no fit)"
    p = f", p = {fit['p_lack_of_fit']:.2g}" if np.isfinite(fit["p_lack_of_fit"]) else ""
    mark = " ✓" if fit["vanishes_like_inv_sqrt_K"] else ""
    a, lo, hi = (_percent(fit[k]) for k in ("a", "a_lo", "a_hi"))
    return f": a = {a} [{lo}, {hi}] %{p}{mark}"


def _percent(v: float) -> str:
    """A fraction in % with one decimal below 10 %, none above (no exponents)."""
    v = 100.0 * v
    return f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"


def _approach_panel(ax, rel, fits, curves, quantities):
    K, fitted = curves
    for k, q in enumerate(quantities):
        g = rel[rel.quantity == q].sort_values("K_E")
        if g.empty or not np.isfinite(g.rel_error).any():
            continue
        c = _quantity_color(q)
        hit = fits[fits.quantity == q] if not fits.empty else fits
        fit = hit.iloc[0] if not hit.empty else None
        ax.errorbar(g.K_E, 100 * g.rel_error, yerr=100 * g.rel_error_se.fillna(0.0), fmt="os^"[k],
                    color=c, mfc="none", ms=6, capsize=3, label=SYMBOLS[q] + _fit_label(fit))
        if q in fitted:
            ax.plot(K, 100 * fitted[q], color=c, lw=1, ls="-" if fit["status"] == "ok" else ":")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xscale("log")


def _sample_sizes(rel) -> str:
    per_N = rel.groupby(["N", "K_E"]).n_seeds.max().reset_index()
    return "; ".join(f"N = {r.N} (K_E = {r.K_E}): {r.n_seeds} seed{'s' * (r.n_seeds != 1)}"
                     for r in per_N.itertuples())


def _unconverged(rel) -> str:
    bad = sorted(set(rel.loc[~rel.dmf_converged.astype(bool), "N"]))
    return f" DMF NOT converged at N = {', '.join(map(str, bad))}." if bad else ""


def approach_figure(rel, fits, curves, info):
    """Signed relative error (simulation − DMF)/|DMF| vs K = K_E per quantity, each N
    against the DMF of that N, with the fits e(K) = a + b K^(-1/2).

    rel: rows of the discrepancy table (stdnet.dmf.compare) at one J0 with a chaotic DMF;
    fits: the rows of dmf.compare.error_fits at that J0; curves: (K, quantity -> fitted
    e(K)); info: J0_panel, I0_sim, finite_K, c, f_E, one_minus_c, shared_input and the
    DMF solver's n_paths, t_path, max_lag, dt; built by stdnet.dmf.figdata.figure_inputs."""
    use_style()
    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5), sharex=True)
    if rel.empty:
        for ax in axes.flat:
            ax.axis("off")
        axes[0, 0].text(0.0, 0.5, "no chaotic DMF solution to compare with")
        return fig
    c, f_E = info["c"], info["f_E"]
    for (title, quantities), ax in zip(APPROACH_PANELS, axes.flat):
        _approach_panel(ax, rel, fits, curves, quantities)
        ax.set(title=title, ylabel="relative error (sim − DMF)/|DMF| (%)")
        top = ax.secondary_xaxis("top", functions=(lambda k: k / (c * f_E),
                                                   lambda n: n * c * f_E))
        top.set_xlabel("network size N", fontsize=8)
        ax.legend(fontsize=6, loc="best")
    for ax in axes[1]:
        ax.set_xlabel("K = K_E = c N_E (excitatory inputs per neuron)")
    dmf = ("finite-K DMF solved at each N with its own K_E" if info["finite_K"]
           else "balanced-limit DMF (K → ∞), the same for every N")
    caption(fig, f"Approach of the simulations to the DMF at J0 = {info['J0_panel']:g}, "
                 f"I0 = {info['I0_sim']:g}, c = {c:g}, f_E = {f_E:g}: signed relative error of "
                 f"the seed mean vs K, {dmf} (one_minus_c = {info['one_minus_c']}, "
                 f"shared_input = {info['shared_input']}; {info['n_paths']} paths of "
                 f"{info['t_path']:g} τ, lags to {info['max_lag']:g} τ, step {info['dt']:g} τ). "
                 "Bars: ± 1 standard error over seeds (the DMF's own sampling error, common to "
                 "all N, is not included). Lines: weighted least-squares fits "
                 "e(K) = a + b K^(-1/2) (dotted: unweighted); legend: a with its 95 % interval "
                 "and the lack-of-fit p; ✓: a consistent with 0 and p >= 0.05, i.e. an error "
                 "that vanishes like 1/sqrt(K). The parts of Δ(0) are relative to the DMF's "
                 f"Δ(0). Samples: {_sample_sizes(rel)}.{_unconverged(rel)}")
    fig.tight_layout()
    return fig
