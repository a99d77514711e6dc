"""Figures of the Lyapunov stage: each takes tables/arrays, returns a Figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from stdnet.plotting import caption, use_style


def _n_colors(Ns):
    cmap = plt.get_cmap("viridis")
    Ns = sorted(Ns)
    return {N: cmap(0.15 + 0.7 * k / max(len(Ns) - 1, 1)) for k, N in enumerate(Ns)}


def fig_lambda_vs_J0(table: pd.DataFrame, note: str = ""):
    """lambda_max vs J0 per N: seeds faint (with CI bars), mean and +-sd band over seeds."""
    use_style()
    Ns = sorted(table["N"].unique())
    fig, axes = plt.subplots(1, len(Ns), figsize=(4.2 * len(Ns), 3.4), sharey=True,
                             squeeze=False)
    colors = _n_colors(Ns)
    for ax, N in zip(axes[0], Ns):
        t = table[table["N"] == N]
        c = colors[N]
        for seed, g in t.groupby("seed"):
            g = g.sort_values("J0")
            ax.errorbar(g["J0"], g["lambda_max"], yerr=g["ci_max"], color=c, alpha=0.3, lw=0.8,
                        marker=".", ms=3, capsize=1.5)
        agg = t.groupby("J0")["lambda_max"].agg(["mean", "std"]).reset_index()
        agg["std"] = agg["std"].fillna(0.0)
        ax.fill_between(agg["J0"], agg["mean"] - agg["std"], agg["mean"] + agg["std"], color=c,
                        alpha=0.25, lw=0, label="mean ± sd over seeds")
        ax.plot(agg["J0"], agg["mean"], color=c, lw=2, marker="o", ms=4, label="mean")
        ax.axhline(0.0, color="k", lw=0.7, ls="--")
        ax.set_title(f"N = {N}")
        ax.set_xlabel(r"coupling $J_0$")
    axes[0][0].set_ylabel(r"$\lambda_{max}$ (1/$\tau$)")
    axes[0][0].legend(loc="upper left", frameon=False, fontsize=8)
    caption(fig, "Maximal Lyapunov exponent vs J0; faint lines: single seeds with their "
            "confidence intervals; band: mean ± sd over seeds. " + note)
    return fig


def fig_convergence(runs: list, note: str = ""):
    """Running estimate of lambda_max vs averaging time for a few runs.

    runs: dicts with label, times (tau), local (n, m), lambda_max, ci.
    """
    use_style()
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    cmap = plt.get_cmap("plasma")
    for k, r in enumerate(runs):
        c = cmap(0.1 + 0.8 * k / max(len(runs) - 1, 1))
        loc = np.asarray(r["local"])[:, 0]
        running = np.cumsum(loc) / np.arange(1, len(loc) + 1)
        ax.plot(r["times"], running, color=c, lw=1.3, label=r["label"])
        ax.fill_between([r["times"][-1] * 0.97, r["times"][-1]],
                        r["lambda_max"] - r["ci"], r["lambda_max"] + r["ci"], color=c, alpha=0.4)
    ax.axhline(0.0, color="k", lw=0.7, ls="--")
    ax.set_xlabel(r"averaging time ($\tau$)")
    ax.set_ylabel(r"running $\lambda_{max}$ (1/$\tau$)")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    caption(fig, "Convergence of the maximal exponent: running mean of the local exponents "
            "after the basis alignment; bars at the right end: final confidence intervals. "
            + note)
    return fig


def fig_kaplan_yorke(table: pd.DataFrame, note: str = ""):
    """Kaplan-Yorke dimension vs J0 per N (mean over seeds); open markers: lower bounds."""
    use_style()
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    colors = _n_colors(table["N"].unique())
    for N, t in table.groupby("N"):
        agg = t.groupby("J0").agg(D=("kaplan_yorke", "mean"),
                                  sd=("kaplan_yorke", "std"),
                                  complete=("kaplan_yorke_complete", "all")).reset_index()
        ax.errorbar(agg["J0"], agg["D"], yerr=agg["sd"].fillna(0.0), color=colors[N], lw=1.3,
                    capsize=2, label=f"N = {N}")
        lb = agg[~agg["complete"]]
        ax.plot(lb["J0"], lb["D"], "o", mfc="white", mec=colors[N], ms=6)
    ms = sorted(int(v) for v in table["m"].unique())
    if len(ms) == 1:
        ax.axhline(ms[0], color="0.5", lw=0.7, ls=":")
    m = "/".join(str(v) for v in ms)
    ax.set_xlabel(r"coupling $J_0$")
    ax.set_ylabel(r"Kaplan–Yorke dimension $D_{KY}$")
    ax.legend(frameon=False, fontsize=8)
    caption(fig, f"Kaplan–Yorke dimension from the first m = {m} exponents (mean ± sd over "
            "seeds). Open circles: the sum of all m computed exponents is still >= 0, so "
            f"D_KY >= m is only a lower bound. Extensive chaos would make "
            "D_KY grow in proportion to N. " + note)
    return fig
