"""Figures of the correlations stage: the cancellation per block and the asynchrony."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from stdnet.correlations.asynchrony import SIGNAL_LABELS
from stdnet.plotting import OKABE_ITO, POP_COLORS, caption, use_style
from stdnet.stats import model_value

TERM_STYLE = {"shared": (OKABE_ITO["orange"], "o", "shared-input term"),
              "corr": (OKABE_ITO["purple"], "s", "−(correlation term)"),
              "measured": ("0.1", "^", "sum = measured covariance")}
BLOCK_TITLE = {"E": "{a} targets, E→{a} block", "I": "{a} targets, I→{a} block",
               "cross": "{a} targets, E–I cross block (×2)"}


def _points(ax, p, color, marker, label, sign=1.0):
    """Per-N means ± sampling error (se of per_N_terms); filled where positive after
    `sign`, open where negative; one realization: diamond, dashed error bar (within-run
    error). On the log axis an error bar reaching below 0 is drawn down to the axis."""
    for _, r in p.iterrows():
        v = sign * r["mean"]
        face = color if v > 0 else "white"
        mk = "D" if r.single else marker
        se = r.se if np.isfinite(r.se) else None
        lo = None if se is None else min(se, abs(v) * (1 - 1e-3))
        eb = ax.errorbar(r.N, abs(v), yerr=None if se is None else [[lo], [se]], fmt=mk,
                         color=color, mfc=face, ms=6, capsize=2, lw=1)
        if r.single:
            for line in eb[2]:
                line.set_linestyle("--")
    ax.plot([], [], marker, color=color, label=label)


def _detection_band(ax, N, limit, label):
    """The detection limit (floor_factor x surrogate floor) as a dashed line with the
    region below it shaded: values there are indistinguishable from independent targets."""
    limit = np.asarray(limit, dtype=float)
    if not np.isfinite(limit).any() or not (limit > 0).any():
        return
    lo = min(ax.get_ylim()[0], 0.5 * float(np.nanmin(limit[limit > 0])))
    ax.fill_between(N, lo, limit, color="0.5", alpha=0.15, lw=0)
    ax.plot(N, limit, "--", color="0.45", lw=1, label=label)
    ax.set_ylim(bottom=lo)


def _fit_curve(ax, fits, key, Ns, color, sign=1.0):
    f = fits[(fits.J0 == key[0]) & (fits.target == key[1]) & (fits.block == key[2])
             & (fits.term == key[3])]
    if f.empty:
        return ""
    # the model drawn for this term, or the other one where it was refused (sign change)
    f = f.sort_values("drawn", ascending=False)
    ok = f[f.status.isin(["ok", "unweighted"])]
    row = (ok if not ok.empty else f).iloc[0].to_dict()
    n = np.geomspace(min(Ns), max(Ns), 50)
    y = sign * model_value(row, n)
    if np.all(np.isfinite(y)):
        ax.plot(n, np.abs(y), "-", color=color, lw=0.8, alpha=0.8)
    if row["status"] not in ("ok", "unweighted"):
        return f" (fit: {row['status']})"
    if "exponent" in row and np.isfinite(row.get("exponent", np.nan)):
        return (f" ∝ N^{row['exponent']:.2f} [{row['exponent_lo']:.2f}, "
                f"{row['exponent_hi']:.2f}], p={row['p_lack_of_fit']:.2g}")
    return (f"; a={row['a']:.3g} [{row['a_lo']:.3g}, {row['a_hi']:.3g}], "
            f"b={row['b']:.3g}, p={row['p_lack_of_fit']:.2g}")


def cancellation_figure(per, fits, info: dict):
    """Rows: E and I targets; columns: E block, I block, cross block (|terms| vs N,
    log-log, ± sampling errors, detection limits as shaded bands), and the fraction of
    the shared-input covariance cancelled (± sampling errors, with its fit)."""
    use_style()
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    if per.empty:
        for ax in axes.flat:
            ax.axis("off")
        axes[0, 0].text(0, 0.5, "no recordings (correlations.J0 / runs select none)")
        return fig
    J0 = max(per.J0.unique())
    t = per[per.J0 == J0]
    Ns = sorted(t.N.unique())
    for row, a in enumerate(("E", "I")):
        for col, b in enumerate(("E", "I", "cross")):
            ax = axes[row, col]
            limit = None
            for term in ("shared", "corr", "measured"):
                if b == "cross" and term != "measured":
                    continue  # no shared input; the correlation term is the measured value
                p = t[(t.target == a) & (t.block == b) & (t.term == term)].sort_values("N")
                if p.empty:
                    continue
                color, mk, lab = TERM_STYLE[term]
                sign = -1.0 if term == "corr" else 1.0
                if b == "cross":
                    lab = "correlation term = measured (no shared input)"
                lab += _fit_curve(ax, fits, (J0, a, b, term), Ns, color, sign)
                _points(ax, p, color, mk, lab, sign)
                if term == "measured":
                    limit = (p.N.to_numpy(float), info["floor_factor"] * p.detect_limit)
            ax.set(xscale="log", yscale="log", xlabel="network size N (neurons)",
                   ylabel="|mean pairwise input covariance| (h², dimensionless)",
                   title=BLOCK_TITLE[b].format(a=a))
            if limit is not None:
                _detection_band(ax, *limit, f"detection limit ({info['floor_factor']:g} × "
                                            "surrogate sd; independence)")
            ax.plot([], [], "D", color="0.4", mfc="white",
                    label="one realization (within-run error, not fitted)"
                    if not info.get("fit_single") else "one realization (within-run error)")
            ax.legend(fontsize=6.5, loc="lower right" if b == "cross" else "best")
        ax = axes[row, 3]
        for b, color in (("E", POP_COLORS["E"]), ("I", POP_COLORS["I"]), ("total", "0.1")):
            p = t[(t.target == a) & (t.block == b) & (t.term == "fraction")].sort_values("N")
            if p.empty:
                continue
            lab = {"E": "E block", "I": "I block", "total": "all blocks (1 − measured/shared)"}[b]
            f = fits[(fits.J0 == J0) & (fits.target == a) & (fits.block == b)
                     & (fits.term == "fraction") & (fits.model != "A x^beta")]
            if not f.empty and f.iloc[0].status in ("ok", "unweighted"):
                r = f.iloc[0].to_dict()
                n = np.geomspace(min(Ns), max(Ns), 50)
                ax.plot(n, model_value(r, n), "-", color=color, lw=0.8)
                lab += f": a={r['a']:.3g} [{r['a_lo']:.3g}, {r['a_hi']:.3g}]"
            for single, mk, ls in ((False, "o", "-"), (True, "D", "--")):
                q = p[p.single == single]
                if q.empty:
                    continue
                eb = ax.errorbar(q.N, q["mean"], yerr=q.se.where(np.isfinite(q.se)), fmt=mk,
                                 color=color, capsize=2, ms=5, lw=1,
                                 label=None if single else lab)
                for line in eb[2]:
                    line.set_linestyle(ls)
            if b == "total":
                lim = info["floor_factor"] * p.detect_limit.to_numpy(float)
                ax.fill_between(p.N, 1 - lim, 1 + lim, color="0.5", alpha=0.15, lw=0)
                ax.plot(p.N, 1 + lim, "--", color="0.45", lw=1,
                        label="1 ± detection limit, all blocks (measured\n"
                              "covariance indistinguishable from 0)")
                ax.plot(p.N, 1 - lim, "--", color="0.45", lw=1)
        ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
        ax.axhline(0.0, color="0.6", lw=0.8)
        # symlog: the E block is amplified many times over, the I block cancelled to ~1
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set(xscale="log", xlabel="network size N (neurons)",
               ylabel="fraction of shared input cancelled (1 = complete)",
               title=f"{a} targets: −corr / shared (< 0: amplified)")
        ax.legend(fontsize=6.5)
    caption(fig, f"Mean pairwise covariance of the synaptic input of sampled target neurons "
                 f"at J0 = {J0:g}, split per presynaptic block into the shared-input term "
                 "(common presynaptic partners, orange) and the presynaptic-correlation term "
                 "(purple, drawn as −term: filled where it cancels, open where it adds); their "
                 "sum is the measured covariance (black; identity to round-off). Symbols: mean "
                 "over realizations ± its standard error (sampling error: spread across "
                 "realizations; diamonds, dashed bars: one realization, batch-means error "
                 "within the run, which misses the network-to-network spread"
                 + ("" if info.get("fit_single") else ", not fitted") + "). Shaded below the "
                 f"dashed line: detection limit, {info['floor_factor']:g} × the sd of "
                 "circular-shift surrogates (what independent targets would give; not an "
                 "error bar). Lines: fits weighted by the sampling errors, a + b N^-1/2 for "
                 "the shared/correlation terms and the fractions, power law A N^β for the "
                 f"sums (95 % CI, lack-of-fit p). {info['samples']}")
    fig.tight_layout()
    return fig


def asynchrony_figure(per, fits, spectra, info: dict):
    """Excess factor X vs N per signal with fits; N-scaled spectra of the population means."""
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    if per.empty:
        for ax in axes:
            ax.axis("off")
        axes[0].text(0, 0.5, "no recordings")
        return fig
    J0 = max(per.J0.unique())
    t = per[per.J0 == J0]
    colors = {k: POP_COLORS[k.replace("nu_", "")] if k != "xnu_E" else POP_COLORS[k]
              for k in ("nu_E", "xnu_E", "nu_I")}
    ax = axes[0]
    Ns = sorted(t.N.unique())
    for sig, color in colors.items():
        p = t[t.signal == sig].sort_values("N")
        f = fits[(fits.J0 == J0) & (fits.signal == sig) & (fits.model == "A x^beta")]
        lab = SIGNAL_LABELS[sig]
        if not f.empty and f.iloc[0].status in ("ok", "unweighted"):
            r = f.iloc[0]
            n = np.geomspace(min(Ns), max(Ns), 50)
            ax.plot(n, model_value(r.to_dict(), n), "-", color=color, lw=0.8)
            lab += f": X ∝ N^{r.exponent:.2f} [{r.exponent_lo:.2f}, {r.exponent_hi:.2f}]"
        ax.errorbar(p.N, p["mean"], yerr=p.se, fmt="o", color=color, capsize=2, label=lab)
    ax.axhline(1.0, color="0.5", ls=":", lw=1, label="independent neurons (X = 1)")
    ax.set(xscale="log", yscale="log", xlabel="network size N",
           ylabel="excess factor X = N·Var(pop. mean)/⟨single var⟩",
           title="population fluctuations over the independent level")
    ax.legend(fontsize=7)
    for ax, sig in zip(axes[1:], ("nu_E", "nu_I")):
        cmap = plt.get_cmap("viridis")
        for k, N in enumerate(Ns):
            if (J0, N) not in spectra:
                continue
            f, S = spectra[(J0, N)]["f"], spectra[(J0, N)][sig]
            ax.loglog(f[1:], S[1:], color=cmap(k / max(1, len(Ns) - 1)), lw=1,
                      label=f"N = {N}")
        ax.set(xlabel="frequency (1/τ)", ylabel="N_b S(f) / ⟨single var⟩  (τ)",
               title=f"spectrum of the population mean of {SIGNAL_LABELS[sig]}")
        ax.legend(fontsize=7)
    caption(fig, f"Asynchrony at J0 = {J0:g}. Left: excess factor X (1 = independent neurons; "
                 "N-independent = asynchronous with O(1/N) pairwise correlations; ∝ N = a "
                 "collective mode); mean over realizations ± standard error (one realization: "
                 "pooled relative spread or batch-means error), power-law fit with 95 % CI. "
                 "Middle, right: Welch spectra of the population-mean rates scaled by N/⟨A⟩ "
                 f"(they integrate to X), averaged over realizations. {info['samples']}")
    fig.tight_layout()
    return fig
