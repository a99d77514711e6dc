"""Figures of the simulation stage: regimes (paper Fig 1) and the fixed point (Fig 2)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..meanfield import balanced_limit, homogeneous_fixed_point
from ..params import ModelParams
from . import POP_COLORS, caption, use_style


def _model_caption(p: ModelParams) -> str:
    return (f"f_E={p.f_E}, c={p.c}, (g_EE, g_EI, g_IE, g_II)=({p.g_EE}, {p.g_EI}, {p.g_IE}, "
            f"{p.g_II}), u={p.u}, tau_D={p.tau_D}, I0={p.I0}, phi={p.transfer}")


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
                 f"last {window:g} tau of the run. {_model_caption(p0)}.")
    fig.tight_layout()
    return fig


def _sweep(base: ModelParams, values, key: str):
    """Homogeneous fixed points along a sweep of one parameter (continuation by guess)."""
    out, prev = [], None
    for v in values:
        p = base.replace(**{key: float(v)})
        prev = homogeneous_fixed_point(p, guess=prev)
        out.append(prev)
    return out


def fig_fixed_point(base: ModelParams, runs: pd.DataFrame, *, N_range=(100, 100000),
                    J0_cut=0.1, I0_cut=0.3, I0_range=(0.0, 1.0), J0_range=(0.05, 2.0),
                    heat_N: int | None = None, resolution: int = 41):
    """Paper Fig 2 A-D: the homogeneous fixed point vs N, (I0, J0), I0 and J0.

    `runs` is the runs table (tables/runs.csv); the time-averaged rates of its
    runs at J0 = J0_cut and the model's I0 are drawn as symbols.
    """
    use_style()
    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    (axA, axB), (axC, axD) = axes
    lim = balanced_limit(base)

    # A: nu_E, nu_I, x vs N at J0_cut
    Ns = np.unique(np.geomspace(N_range[0], N_range[1], 60).astype(int))
    fps = [homogeneous_fixed_point(base.replace(N=int(n), J0=J0_cut)) for n in Ns]
    for key, color, label in (("nu_E", POP_COLORS["E"], r"$\nu_E$"),
                              ("nu_I", POP_COLORS["I"], r"$\nu_I$"),
                              ("x", POP_COLORS["x"], r"$x$")):
        axA.plot(Ns, [getattr(f, key) for f in fps], color=color, label=f"{label} theory")
        axA.axhline(getattr(lim, key), color=color, ls="--", lw=0.9)
        sel = runs[np.isclose(runs["J0"], J0_cut) & np.isclose(runs["I0"], base.I0)]
        if len(sel):
            col = {"nu_E": "nu_E", "nu_I": "nu_I", "x": "x"}[key]
            axA.plot(sel["N"], sel[col], "o", color=color, mec="k", mew=0.6, ms=6,
                     label=f"{label} simulation")
    axA.set_xscale("log")
    axA.set_xlabel("network size N")
    axA.set_ylabel("rate (a.u.) / efficacy x")
    axA.set_title(f"A   fixed point vs N (J0 = {J0_cut:g}, I0 = {base.I0:g})", loc="left")
    axA.legend(fontsize=7, ncol=3, frameon=False, loc="center right",
               bbox_to_anchor=(1.0, 0.62))

    # B: heat map of nu_E over (I0, J0) for one N
    N_heat = int(heat_N or base.N)
    I0s = np.linspace(*I0_range, resolution)
    J0s = np.linspace(*J0_range, resolution)
    grid = np.empty((len(I0s), len(J0s)))
    for a, I0 in enumerate(I0s):
        row = _sweep(base.replace(N=N_heat, I0=float(I0)), J0s, "J0")
        grid[a] = [f.nu_E for f in row]
    im = axB.pcolormesh(J0s, I0s, grid, shading="auto", cmap="viridis")
    fig.colorbar(im, ax=axB, label=r"$\nu_E$ (a.u.)")
    axB.set_xlabel(r"coupling $J_0$")
    axB.set_ylabel(r"external current $I_0$")
    axB.set_title(f"B   $\\nu_E$ at the fixed point, N = {N_heat}", loc="left")

    # C: nu_E vs I0 at J0_cut for several N; inset: the stationary E input
    N_list = _n_list(N_range)
    inset = axC.inset_axes([0.58, 0.12, 0.38, 0.38])
    for k, n in enumerate(N_list):
        color = plt.cm.plasma(k / max(len(N_list) - 1, 1) * 0.85)
        row = _sweep(base.replace(N=n, J0=J0_cut), I0s, "I0")
        axC.plot(I0s, [f.nu_E for f in row], color=color, label=f"N = {n:g}")
        inset.plot(I0s, [f.h_E for f in row], color=color, lw=0.9)
    axC.axhline(lim.nu_E, color="k", ls="--", lw=0.9, label=r"$N\to\infty$")
    inset.set_xlabel(r"$I_0$", fontsize=7)
    inset.set_ylabel(r"$h_E$", fontsize=7)
    inset.tick_params(labelsize=6)
    axC.set_xlabel(r"external current $I_0$")
    axC.set_ylabel(r"$\nu_E$ (a.u.)")
    axC.set_title(f"C   $\\nu_E$ vs $I_0$ (J0 = {J0_cut:g})", loc="left")
    axC.legend(fontsize=7, frameon=False, loc="upper left")

    # D: nu_E vs J0 at I0_cut for several N
    for k, n in enumerate(N_list):
        color = plt.cm.plasma(k / max(len(N_list) - 1, 1) * 0.85)
        row = _sweep(base.replace(N=n, I0=I0_cut), J0s, "J0")
        axD.plot(J0s, [f.nu_E for f in row], color=color, label=f"N = {n:g}")
    axD.axhline(lim.nu_E, color="k", ls="--", lw=0.9, label=r"$N\to\infty$")
    axD.set_xlabel(r"coupling $J_0$")
    axD.set_ylabel(r"$\nu_E$ (a.u.)")
    axD.set_title(f"D   $\\nu_E$ vs $J_0$ (I0 = {I0_cut:g})", loc="left")
    axD.legend(fontsize=7, frameon=False)

    caption(fig, "Homogeneous fixed point of the finite network (lines: theory, "
                 "symbols: time averages of the simulations at that J0; dashed: N -> inf "
                 f"balanced limit nu_E={lim.nu_E:.3g}, nu_I={lim.nu_I:.3g}, x={lim.x:.3g}). "
                 f"{_model_caption(base)}.")
    fig.tight_layout()
    return fig


def _n_list(N_range) -> list[int]:
    lo, hi = np.log10(N_range[0]), np.log10(N_range[1])
    return [int(round(10 ** e)) for e in np.linspace(lo, hi, 4)]
