"""Figures of the simulation stage: regimes (paper Fig 1) and the fixed point (Fig 2)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from stdnet.model.params import ModelParams
from stdnet.plotting import POP_COLORS, caption, model_caption, use_style


def fig_regimes(sims: list[dict], params: list[ModelParams], window: float = 200.0):
    """Paper Fig 1: rate traces of the recorded E and I neurons, one column per J0.

    `sims` are read_simulation() dicts of the same N and seed at increasing J0.
    Shows the last `window` time units (after the transient).
    """
    use_style()
    window = min(window, float(sims[0]["time"][-1]))
    n = len(sims)
    fig, axes = plt.subplots(2, n, figsize=(3.6 * n, 4.6), sharex="col", squeeze=False)
    for col, (sim, p) in enumerate(zip(sims, params)):
        t = sim["time"]
        keep = t >= max(t[-1] - window, 0.0)
        idx = sim["recorded"]["index"]
        nu = sim["recorded"]["nu"]
        for row, (pop, mask) in enumerate((("E", idx < p.N_E), ("I", idx >= p.N_E))):
            ax = axes[row, col]
            shades = np.linspace(0.45, 1.0, max(mask.sum(), 1))
            for k, j in enumerate(np.flatnonzero(mask)):
                ax.plot(t[keep], nu[keep, j], lw=1.0, color=POP_COLORS[pop], alpha=shades[k],
                        label=f"{pop} neuron {idx[j]}")
            if row == 0:
                ax.set_title(f"J0 = {p.J0:g}")
            if col == 0:
                ax.set_ylabel(f"rate $\\nu_{pop}$ (a.u.)")
            if row == 1:
                ax.set_xlabel("time (units of $\\tau$)")
        axes[0, col].legend(fontsize=6, loc="upper right", ncol=2, frameon=False)
    p0 = params[0]
    caption(fig, f"Rates of {int((sims[0]['recorded']['index'] < p0.N_E).sum())} E and "
                 f"{int((sims[0]['recorded']['index'] >= p0.N_E).sum())} I neurons; "
                 f"N={p0.N} (K_E={p0.K_E}, K_I={p0.K_I}), seed={int(sims[0]['params']['seed'])}, "
                 f"last {window:g} tau of the run. {model_caption(p0)}.")
    fig.tight_layout()
    return fig


def fig_fixed_point(theory: pd.DataFrame, runs: pd.DataFrame, base: ModelParams):
    """Paper Fig 2 A-D: the homogeneous fixed point vs N, (I0, J0), I0 and J0.

    `theory` is tables/fixed_point_theory.csv (fixed_point_curves.fixed_point_theory; its
    curves set the cuts: J0_cut, I0_cut, heat_N); `runs` is the runs table
    (tables/runs.csv), whose time-averaged rates at J0 = J0_cut and the model's I0 are
    drawn as symbols; `base` gives the model constants of the caption.
    """
    use_style()
    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    (axA, axB), (axC, axD) = axes
    curves = {name: g for name, g in theory.groupby("curve", sort=False)}
    lim = curves["limit"].iloc[0]

    # A: nu_E, nu_I, x vs N at J0_cut
    vs_N = curves["N"]
    J0_cut, I0 = float(vs_N.J0.iloc[0]), float(vs_N.I0.iloc[0])
    for key, color, label in (("nu_E", POP_COLORS["E"], r"$\nu_E$"),
                              ("nu_I", POP_COLORS["I"], r"$\nu_I$"),
                              ("x", POP_COLORS["x"], r"$x$")):
        axA.plot(vs_N.N.to_numpy(), vs_N[key].to_numpy(), color=color,
                 label=f"{label} theory")
        axA.axhline(lim[key], color=color, ls="--", lw=0.9)
        sel = runs[np.isclose(runs["J0"], J0_cut) & np.isclose(runs["I0"], I0)]
        if len(sel):
            axA.plot(sel["N"], sel[key], "o", color=color, mec="k", mew=0.6, ms=6,
                     label=f"{label} simulation")
    axA.set_xscale("log")
    axA.set_xlabel("network size N")
    axA.set_ylabel("rate (a.u.) / efficacy x")
    axA.set_title(f"A   fixed point vs N (J0 = {J0_cut:g}, I0 = {I0:g})", loc="left")
    axA.legend(fontsize=7, ncol=3, frameon=False, loc="center right",
               bbox_to_anchor=(1.0, 0.62))

    # B: heat map of nu_E over (I0, J0) for one N
    heat = curves["heat"]
    N_heat = int(heat.N.iloc[0])
    grid = heat.pivot(index="I0", columns="J0", values="nu_E")
    im = axB.pcolormesh(grid.columns.to_numpy(), grid.index.to_numpy(), grid.to_numpy(),
                        shading="auto", cmap="viridis")
    fig.colorbar(im, ax=axB, label=r"$\nu_E$ (a.u.)")
    axB.set_xlabel(r"coupling $J_0$")
    axB.set_ylabel(r"external current $I_0$")
    axB.set_title(f"B   $\\nu_E$ at the fixed point, N = {N_heat}", loc="left")

    # C: nu_E vs I0 at J0_cut for several N; inset: the stationary E input
    cut_I0 = list(curves["I0"].groupby("N", sort=False))
    inset = axC.inset_axes([0.58, 0.12, 0.38, 0.38])
    for k, (n, row) in enumerate(cut_I0):
        color = plt.cm.plasma(k / max(len(cut_I0) - 1, 1) * 0.85)
        axC.plot(row.I0.to_numpy(), row.nu_E.to_numpy(), color=color, label=f"N = {n:g}")
        inset.plot(row.I0.to_numpy(), row.h_E.to_numpy(), color=color, lw=0.9)
    axC.axhline(lim.nu_E, color="k", ls="--", lw=0.9, label=r"$N\to\infty$")
    inset.set_xlabel(r"$I_0$", fontsize=7)
    inset.set_ylabel(r"$h_E$", fontsize=7)
    inset.tick_params(labelsize=6)
    axC.set_xlabel(r"external current $I_0$")
    axC.set_ylabel(r"$\nu_E$ (a.u.)")
    axC.set_title(f"C   $\\nu_E$ vs $I_0$ (J0 = {J0_cut:g})", loc="left")
    axC.legend(fontsize=7, frameon=False, loc="upper left")

    # D: nu_E vs J0 at I0_cut for several N
    cut_J0 = list(curves["J0"].groupby("N", sort=False))
    I0_cut = float(curves["J0"].I0.iloc[0])
    for k, (n, row) in enumerate(cut_J0):
        color = plt.cm.plasma(k / max(len(cut_J0) - 1, 1) * 0.85)
        axD.plot(row.J0.to_numpy(), row.nu_E.to_numpy(), color=color, label=f"N = {n:g}")
    axD.axhline(lim.nu_E, color="k", ls="--", lw=0.9, label=r"$N\to\infty$")
    axD.set_xlabel(r"coupling $J_0$")
    axD.set_ylabel(r"$\nu_E$ (a.u.)")
    axD.set_title(f"D   $\\nu_E$ vs $J_0$ (I0 = {I0_cut:g})", loc="left")
    axD.legend(fontsize=7, frameon=False)

    caption(fig, "Homogeneous fixed point of the finite network (lines: theory, "
                 "symbols: time averages of the simulations at that J0; dashed: N -> inf "
                 f"balanced limit nu_E={lim.nu_E:.3g}, nu_I={lim.nu_I:.3g}, x={lim.x:.3g}). "
                 f"{model_caption(base)}.")
    fig.tight_layout()
    return fig
