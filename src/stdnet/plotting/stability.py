"""Figures of the stability stage: homogeneous modes (paper Fig 3), J_FP statistics, the
bulk edge, the two routes out of the fixed point and the heterogeneous fixed point
(paper Fig 8). Each function takes tables/arrays and returns a Figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from stdnet.plotting import OKABE_ITO, POP_COLORS, caption, use_style

CROSS_COLORS = {"hopf": OKABE_ITO["purple"], "real": OKABE_ITO["orange"], "none": "0.6"}


def _n_colors(values):
    cmap = plt.get_cmap("viridis")
    values = list(values)
    return {v: cmap(i / max(1, len(values) - 1) * 0.85) for i, v in enumerate(values)}


def homogeneous_figure(curves, hmap, text: str):
    """Paper Fig 3: leading eigenvalue of the homogeneous mode vs J0 for several N, and
    its real part over (J0, I0)."""
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    colors = _n_colors(sorted(curves.N.unique()))
    for N, g in curves.groupby("N"):
        g = g.sort_values("J0")
        axes[0].plot(g.J0, g.lam0_re, color=colors[N], label=f"N = {N}")
        axes[1].plot(g.J0, np.abs(g.lam0_im), color=colors[N], label=f"N = {N}")
    axes[0].axhline(0, color="0.5", lw=0.8, ls="--")
    axes[0].set(xlabel="J0", ylabel="Re λ_hom (1/τ)", title="A  leading homogeneous eigenvalue")
    axes[1].set(xlabel="J0", ylabel="|Im λ_hom| (1/τ)", title="B  its frequency")
    axes[0].legend(frameon=False)
    piv = hmap.pivot_table(index="I0", columns="J0", values="lam0_re")
    vmax = max(abs(piv.values.min()), abs(piv.values.max()))
    im = axes[2].pcolormesh(piv.columns, piv.index, piv.values, cmap="RdBu_r",
                            vmin=-vmax, vmax=vmax, shading="auto")
    if (piv.values > 0).any() and (piv.values < 0).any():
        axes[2].contour(piv.columns, piv.index, piv.values, levels=[0], colors="k")
    fig.colorbar(im, ax=axes[2], label="Re λ_hom (1/τ)")
    axes[2].set(xlabel="J0", ylabel="I0", title=f"C  N = {int(hmap.N.iloc[0])}")
    fig.tight_layout()
    caption(fig, text)
    return fig


def jfp_figure(jfp, text: str):
    """J_FP per realization and N (with the bulk-theory line, the table's J_FP_bulk), the
    fractions of Hopf and zero-frequency crossings per N, and the crossing frequencies."""
    use_style()
    theory = jfp.groupby("N").J_FP_bulk.first().to_dict()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    Ns = sorted(jfp.N.unique())
    rng = np.random.default_rng(0)
    ax = axes[0]
    for i, N in enumerate(Ns):
        g = jfp[jfp.N == N]
        for kind, gg in g.groupby("crossing"):
            xs = i + 0.12 * rng.standard_normal(len(gg))
            ax.scatter(xs, gg.J_FP, s=18, color=CROSS_COLORS.get(kind, "k"), alpha=0.8,
                       label=kind if i == 0 else None)
        ok = g.J_FP.dropna()
        if len(ok):
            sd = ok.std(ddof=1) if len(ok) > 1 else 0.0
            ax.errorbar(i + 0.35, ok.mean(), yerr=sd, fmt="o", color="k", ms=4, capsize=3)
    ax.plot(range(len(Ns)), [theory.get(N, np.nan) for N in Ns], "k--", lw=1,
            label="bulk theory")
    ax.set_xticks(range(len(Ns)), [str(N) for N in Ns])
    ax.set(xlabel="N", ylabel="J_FP", title="A  loss of stability of the homogeneous FP")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(dict(zip(labels, handles)).values(), dict(zip(labels, handles)).keys(),
              frameon=False, fontsize=8)
    ax = axes[1]
    bottom = np.zeros(len(Ns))
    for kind in ("hopf", "real", "none"):
        frac = np.array([(jfp[jfp.N == N].crossing == kind).mean() for N in Ns])
        ax.bar(range(len(Ns)), frac, bottom=bottom, color=CROSS_COLORS[kind],
               label={"hopf": "Hopf", "real": "zero frequency", "none": "none in range"}[kind])
        bottom += frac
    for i, N in enumerate(Ns):
        ax.text(i, 1.02, f"n={int((jfp.N == N).sum())}", ha="center", fontsize=8)
    ax.set_xticks(range(len(Ns)), [str(N) for N in Ns])
    ax.set(xlabel="N", ylabel="fraction of realizations", ylim=(0, 1.12),
           title="B  route out of the fixed point")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax = axes[2]
    for i, N in enumerate(Ns):
        g = jfp[(jfp.N == N) & (jfp.crossing == "hopf")]
        ax.scatter(np.full(len(g), i) + 0.1 * rng.standard_normal(len(g)), g.frequency,
                   s=18, color=CROSS_COLORS["hopf"])
    ax.set_xticks(range(len(Ns)), [str(N) for N in Ns])
    ax.set(xlabel="N", ylabel="ω at the Hopf crossing (1/τ)", title="C  Hopf frequencies")
    fig.tight_layout()
    caption(fig, text)
    return fig


def bulk_figure(spec, jfp, curves, text: str):
    """Rightmost eigenvalue of each realization vs the random-matrix bulk edge (curves:
    DataFrame N, J0, edge_re, edge_im), with the measured J_FP at Re = 0."""
    use_style()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = _n_colors(sorted(set(curves.N) | set(spec.N)))
    for N, g in curves.groupby("N"):
        axes[0].plot(g.J0, g.edge_re, color=colors[N], label=f"theory N = {N}")
        axes[1].plot(g.J0, g.edge_im, color=colors[N])
    for N, g in spec.groupby("N"):
        axes[0].scatter(g.J0, g.lam_re, s=16, color=colors[N], edgecolor="k", lw=0.4,
                        label=f"measured N = {N}", zorder=3)
        axes[1].scatter(g.J0, g.lam_im, s=16, color=colors[N], edgecolor="k", lw=0.4, zorder=3)
    for N, g in jfp.groupby("N"):
        if N in colors:
            axes[0].scatter(g.J_FP, np.zeros(len(g)), marker="|", s=80, color=colors[N])
    axes[0].axhline(0, color="0.5", lw=0.8, ls="--")
    axes[0].set(xlabel="J0", ylabel="Re λ (1/τ)", title="A  right edge of the spectrum")
    axes[1].set(xlabel="J0", ylabel="|Im λ| at the edge (1/τ)", title="B  its frequency")
    axes[0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    caption(fig, text)
    return fig


def routes_figure(cases: list, text: str):
    """Paper Fig 8A-B: for each crossing kind, the spectrum just below and above J_FP and
    (inset) the activity of a few neurons just above it. `cases`: dicts with kind, seed,
    J_FP, J_lo, J_hi, ev_lo, ev_hi, t, nu (time x neurons), n_E."""
    use_style()
    n = max(1, len(cases))
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.2), squeeze=False)
    for ax, c in zip(axes[0], cases):
        ax.scatter(c["ev_lo"].real, c["ev_lo"].imag, s=6, color="0.55",
                   label=f"J0 = {c['J_lo']:.3f} (below)")
        ax.scatter(c["ev_hi"].real, c["ev_hi"].imag, s=6, color=CROSS_COLORS[c["kind"]],
                   label=f"J0 = {c['J_hi']:.3f} (above)")
        ax.axvline(0, color="k", lw=0.8)
        ax.set(xlim=(-0.6, 0.25), ylim=(-1.0, 1.0), xlabel="Re λ (1/τ)", ylabel="Im λ (1/τ)",
               title=f"{'A' if c['kind'] == 'hopf' else 'B'}  {c['kind']} crossing, seed "
                     f"{c['seed']}, J_FP = {c['J_FP']:.4f}")
        ax.legend(frameon=False, fontsize=8, loc="lower left")
        ins = ax.inset_axes([0.58, 0.62, 0.4, 0.34])
        t, nu, n_E = c["t"], c["nu"], c["n_E"]
        for j in range(nu.shape[1]):
            ins.plot(t, nu[:, j], lw=0.8, color=POP_COLORS["E" if j < n_E else "I"])
        ins.set_xlabel("t (τ)", fontsize=7)
        ins.set_ylabel("ν", fontsize=7)
        ins.tick_params(labelsize=6)
    for ax in axes[0][len(cases):]:
        ax.axis("off")
    if not cases:
        axes[0][0].text(0.5, 0.5, "no crossing found in the J0 range", ha="center")
    fig.tight_layout()
    caption(fig, text)
    return fig


def hetfp_figure(table, theory, sample, text: str):
    """Paper Fig 8C-D: histogram of the E inputs at a simulated heterogeneous fixed point vs
    the theory's Gaussian (inset: distribution of x), and mu_E, sigma_E vs J0.

    theory: array (n, 5) of J0, mu_E, mu_I, sigma_E, sigma_I; sample: dict with J0, h_E, x
    and theory mu/sigma (or None when no run settled on a heterogeneous state)."""
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    if sample is not None:
        ax.hist(sample["h_E"], bins=40, density=True, color=POP_COLORS["E"], alpha=0.6,
                label=f"simulation, J0 = {sample['J0']:g}")
        if np.isfinite(sample["mu"]):
            z = np.linspace(sample["h_E"].min() - 0.05, sample["h_E"].max() + 0.05, 200)
            ax.plot(z, np.exp(-0.5 * ((z - sample["mu"]) / sample["sigma"]) ** 2)
                    / (np.sqrt(2 * np.pi) * sample["sigma"]), "k", label="Gaussian theory")
        ins = ax.inset_axes([0.66, 0.55, 0.32, 0.35])
        ins.hist(sample["x"], bins=30, color=POP_COLORS["x"], alpha=0.8)
        ins.set_xlabel("x", fontsize=7)
        ins.tick_params(labelsize=6)
        ax.legend(frameon=False, fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no run settled on a\nheterogeneous fixed point", ha="center",
                transform=ax.transAxes)
    ax.set(xlabel="h_E (E input current)", ylabel="density", title="C  E inputs at the het. FP")
    J0, mu_E, mu_I, s_E, s_I = theory.T
    het = table[table.heterogeneous.astype(bool)]
    for ax, (key, mu_t, s_t, col, pop) in zip(
            axes[1:], [("E", mu_E, s_E, POP_COLORS["E"], "E"),
                       ("I", mu_I, s_I, POP_COLORS["I"], "I")]):
        ax.plot(J0, mu_t, color=col, label=f"μ_{pop} theory")
        ax.plot(J0, s_t, color=col, ls="--", label=f"σ_{pop} theory")
        ax.scatter(het.J0, het[f"mu_{key}"], color=col, edgecolor="k", zorder=3,
                   label=f"μ_{pop} simulation")
        ax.scatter(het.J0, het[f"sigma_{key}"], color="w", edgecolor=col, zorder=3,
                   label=f"σ_{pop} simulation")
        moving = table[~table.settled.astype(bool)]
        if len(moving):  # end state of runs that did not settle: not a fixed point
            ax.scatter(moving.J0, moving[f"sigma_{key}"], marker="x", color="0.5", zorder=3,
                       label=f"σ_{pop}, run not settled (end state)")
        ax.set(xlabel="J0", ylabel=f"μ_{pop}, σ_{pop}",
               title=f"{'D' if pop == 'E' else 'E'}  {pop} inputs vs J0")
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    caption(fig, text)
    return fig
