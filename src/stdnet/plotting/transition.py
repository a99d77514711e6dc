"""Figures of the transition stage: the regime map, and the transition width and both ends vs N
(stdnet.transition.width). Each takes tables, returns a Figure."""
from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from stdnet.plotting import OKABE_ITO, caption, use_style
from stdnet.transition.regimes import REGIMES
from stdnet.transition.width_models import LEVEL, limit_curve, model_curve

MODEL_COLORS = {"constant": OKABE_ITO["grey"], "power": OKABE_ITO["blue"],
                "offset": OKABE_ITO["vermillion"]}
END_COLORS = {"J_FP": OKABE_ITO["blue"], "J_ch": OKABE_ITO["vermillion"]}
MODEL_NAMES = {"constant": "constant", "power": "power law", "offset": "offset power law"}


def _jitter(N, rng, spread: float = 0.07):
    """Multiplicative jitter of the sizes, for a log N axis."""
    N = np.asarray(N, float)
    return N * np.exp(spread * rng.uniform(-1.0, 1.0, N.size))


def _curve_N(per_N: pd.DataFrame):
    return np.geomspace(per_N["N"].min() * 0.8, per_N["N"].max() * 1.25, 120)


def fig_width(trans: pd.DataFrame, per_N: pd.DataFrame, fits: pd.DataFrame, jch_fit: dict,
              jfp_fit: dict, bulk_curve: pd.DataFrame | None, verdict: str,
              criterion: str = "aic", level: float = LEVEL, note: str = ""):
    """Two panels. A: width J_ch - J_FP per realization (jittered) with the per-N means and
    their t-intervals, the fitted models (labelled with their Akaike weights by `criterion`)
    and the zero line. B: J_FP and J_ch per realization with their means and intervals, the
    fitted J(N) = J_inf + b N^-beta curves, the bulk theory's J_FP(N) (bulk_curve: columns
    N, J_FP; None to leave it out), the extrapolated J_c(inf) with its interval as a band and
    the bulk theory's N -> inf limit (jch_fit['bulk_limit']) as a horizontal line.
    The verdict goes in the suptitle; the caption says how many widths are missing.

    trans: one row per realization (N, J_FP, J_ch, width); per_N: transition.width.per_N_table;
    fits: transition.width_models.fit_models; jch_fit / jfp_fit: transition.width_models.fit_limit.
    """
    use_style()
    rng = np.random.default_rng(0)
    pct = f"{100 * level:g} %"
    fig, (ax_w, ax_j) = plt.subplots(1, 2, figsize=(11.0, 4.4), layout="constrained")
    t = trans.copy()
    if "width" not in t:
        t["width"] = t["J_ch"] - t["J_FP"]
    Nc = _curve_N(per_N)

    # ---- A: width vs N
    ok = t[np.isfinite(t["width"].astype(float))]
    ax_w.plot(_jitter(ok["N"], rng), ok["width"], "o", ms=3.5, color="0.55", alpha=0.5,
              mec="none", label="single realizations", zorder=2)
    good = per_N[np.isfinite(per_N["width_mean"])]
    yerr = np.vstack([good["width_mean"] - good["width_lo"], good["width_hi"] - good["width_mean"]])
    ax_w.errorbar(good["N"], good["width_mean"], yerr=np.nan_to_num(yerr), fmt="s", ms=5,
                  color="k", capsize=3, label=f"mean, {pct} CI (t)", zorder=4)
    wcol = "weight_" + criterion
    for _, r in fits.iterrows():
        if not r["ok"]:
            continue
        wt = r.get(wcol, math.nan)
        wt_txt = f"{criterion.upper()} weight {wt:.2f}" if np.isfinite(wt) else \
            f"{criterion.upper()} undefined"
        if r["model"] == "constant":
            par = f"w∞ = {r['w_inf']:.3f}"
        elif r["model"] == "power":
            par = f"β = {r['beta']:.2f}"
        else:
            par = f"w∞ = {r['w_inf']:.3f}, β = {r['beta']:.2f}"
        ax_w.plot(Nc, model_curve(r, Nc), color=MODEL_COLORS.get(r["model"], "C3"), lw=1.6,
                  ls={"constant": ":", "power": "--"}.get(r["model"], "-"),
                  label=f"{MODEL_NAMES.get(r['model'], r['model'])}: {par} ({wt_txt})",
                  zorder=3)
    ax_w.axhline(0.0, color="k", lw=0.8, ls="-", alpha=0.6, label="zero width", zorder=1)
    ax_w.set_xscale("log")
    ax_w.set_xlim(Nc[0], Nc[-1])  # also when no width is finite (nothing else sets x)
    ax_w.set_xlabel("network size N")
    ax_w.set_ylabel(r"width $J_{ch} - J_{FP}$ (dimensionless)")
    ax_w.set_title("A  transition width")
    for _, r in per_N.iterrows():
        if r["n_missing"]:
            ax_w.annotate(f"{int(r['n_missing'])} missing", (r["N"], 0.02),
                          xycoords=("data", "axes fraction"), ha="center", fontsize=7,
                          color=OKABE_ITO["vermillion"])
    ax_w.legend(frameon=False, fontsize=7, loc="upper right")

    # ---- B: J_FP and J_ch vs N
    for q, fit in (("J_FP", jfp_fit), ("J_ch", jch_fit)):
        c = END_COLORS[q]
        v = t[np.isfinite(t[q].astype(float))]
        sym = {"J_FP": r"$J_{FP}$", "J_ch": r"$J_{ch}$"}[q]
        ax_j.plot(_jitter(v["N"], rng), v[q], "o", ms=3, color=c, alpha=0.35, mec="none",
                  label=f"{sym} single realizations", zorder=2)
        g = per_N[np.isfinite(per_N[f"{q}_mean"])]
        yerr = np.vstack([g[f"{q}_mean"] - g[f"{q}_lo"], g[f"{q}_hi"] - g[f"{q}_mean"]])
        ax_j.errorbar(g["N"], g[f"{q}_mean"], yerr=np.nan_to_num(yerr), fmt="s", ms=5,
                      color=c, mec="k", capsize=3, label=f"{sym} mean, {pct} CI", zorder=4)
        if fit is not None and fit.get("ok") and fit.get("dof", 0) >= 1:
            lab = {"bulk + delta": f"fit {sym}: bulk $J_{{FP}}(N)$ + δ",
                   "bulk + offset power law": f"fit {sym}: bulk $J_{{FP}}(N)$ + δ + w∞ + a N^-β"
                                              f", β = {fit.get('beta', math.nan):.2f}"}.get(
                str(fit.get("model", "")), f"fit {sym}(∞) + b N^-β, β = {fit['beta']:.2f}")
            ax_j.plot(Nc, limit_curve(fit, Nc, bulk_curve), color=c, lw=1.3, ls="--",
                      label=lab, zorder=3)
    if bulk_curve is not None and len(bulk_curve):
        b = bulk_curve.sort_values("N")
        ax_j.plot(b["N"], b["J_FP"], color="k", lw=1.4, label=r"bulk theory $J_{FP}(N)$",
                  zorder=3)
    if jch_fit is not None and jch_fit.get("ok") and jch_fit.get("dof", 0) >= 1 \
            and np.isfinite(jch_fit.get("J_inf_lo", np.nan)):
        band = [jch_fit["J_inf_lo"], jch_fit["J_inf_hi"]]
        if not np.isfinite(band).all():  # an unbounded end: shade to the data's y range
            ylo, yhi = ax_j.get_ylim()
            band = [band[0] if np.isfinite(band[0]) else ylo,
                    band[1] if np.isfinite(band[1]) else yhi]
        ax_j.axhspan(band[0], band[1], color=END_COLORS["J_ch"], alpha=0.12, lw=0, zorder=0)
        ax_j.axhline(jch_fit["J_inf"], color=END_COLORS["J_ch"], lw=1.0, ls="-.",
                     label=rf"$J_c(\infty)$ = {jch_fit['J_inf']:.3f} "
                           f"[{jch_fit['J_inf_lo']:.3f}, {jch_fit['J_inf_hi']:.3f}]")
    bl = (jch_fit or {}).get("bulk_limit", math.nan)
    if bl is None or not np.isfinite(bl):
        bl = (jfp_fit or {}).get("bulk_limit", math.nan)
    if bl is not None and np.isfinite(bl):
        ax_j.axhline(bl, color="k", lw=1.0, ls=":", label=f"bulk theory N→∞: {bl:.3f}")
    ax_j.set_xscale("log")
    ax_j.set_xlim(Nc[0], Nc[-1])
    ax_j.set_xlabel("network size N")
    ax_j.set_ylabel(r"coupling $J_0$ (dimensionless)")
    ax_j.set_title(r"B  $J_{FP}$ and $J_{ch}$ vs N")
    ax_j.legend(frameon=False, fontsize=7, loc="upper right")

    fig.suptitle(textwrap.fill(verdict, 150), fontsize=8, ha="center")
    n_miss = int(per_N["n_missing"].sum()) if "n_missing" in per_N else 0
    caption(fig, f"A: width J_ch − J_FP of each realization (jittered in N), per-N means with "
            f"{pct} t-intervals, and the models fitted to the means weighted by their standard "
            f"errors (intervals calibrated for standard errors from few realizations). "
            f"B: loss of the homogeneous fixed point (J_FP) and onset of chaos (J_ch) "
            f"per realization with their means, fits J_FP = bulk J_FP(N) + δ and J_ch = bulk "
            f"J_FP(N) + δ + w∞ + a N^-β (with their own exponents where no bulk curve is "
            f"given), and the bulk random-matrix theory. "
            + (f"{n_miss} realization(s) without a width (an end not found) are counted per N "
               f"and left out of the means. " if n_miss else "All realizations have a width. ")
            + note)
    return fig


# ordered light to dark along the route to chaos, in colours every colour vision tells apart
REGIME_COLORS = {"homogeneous FP": "#DDDDDD", "heterogeneous FP": OKABE_ITO["sky"],
                 "periodic": OKABE_ITO["yellow"], "quasi-periodic": OKABE_ITO["orange"],
                 "chaos": OKABE_ITO["vermillion"]}


def fig_regime_map(regimes: pd.DataFrame, note: str = ""):
    """Regime of every run: J0 (x) by seed (y), one panel per N."""
    use_style()
    Ns = sorted(regimes["N"].unique())
    fig, axes = plt.subplots(len(Ns), 1, figsize=(6.5, 1.0 + 0.45 * regimes["seed"].nunique()
                                                      * len(Ns) + 0.6 * len(Ns)),
                             squeeze=False)
    cmap = ListedColormap([REGIME_COLORS[r] for r in REGIMES])
    norm = BoundaryNorm(np.arange(len(REGIMES) + 1) - 0.5, cmap.N)
    code = {r: k for k, r in enumerate(REGIMES)}
    for ax, N in zip(axes[:, 0], Ns):
        t = regimes[regimes["N"] == N]
        J0s = sorted(t["J0"].unique())
        seeds = sorted(t["seed"].unique())
        grid = np.full((len(seeds), len(J0s)), np.nan)
        for _, r in t.iterrows():
            grid[seeds.index(r["seed"]), J0s.index(r["J0"])] = code[r["regime"]]
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto",
                  origin="lower")
        ax.set_xticks(range(len(J0s)), [f"{j:g}" for j in J0s])
        ax.set_yticks(range(len(seeds)), [str(s) for s in seeds])
        ax.set_ylabel("seed")
        ax.set_title(f"N = {N}", fontsize=10)
    axes[-1][0].set_xlabel(r"coupling $J_0$")
    fig.subplots_adjust(hspace=0.8)
    handles = [Patch(color=REGIME_COLORS[r], label=r) for r in REGIMES]
    fig.legend(handles=handles, loc="upper center", ncol=3, frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, 1.06))
    caption(fig, "Regime of each realization (rows) and coupling (columns), classified from "
            "the Lyapunov exponents and the spatial/temporal spreads of the inputs. " + note)
    return fig
