"""Figures of the heterogeneity stage: rate distributions (theory against simulation), the
quenched input variance and the near-silent fraction vs K, and the (CV, J0) phase diagram."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from stdnet.heterogeneity.measure import POPULATIONS, QUANTILE_PROBS
from stdnet.heterogeneity.stage import ROUND_OFF_VARIANCE, mean_standard_errors
from stdnet.plotting import OKABE_ITO, caption, model_caption, use_style

PALETTE = [OKABE_ITO[k] for k in ("grey", "blue", "vermillion", "green", "purple", "orange",
                                  "sky", "yellow")]
MARKERS = "osD^v<>p"


def ensemble_styles(names) -> dict:
    """One (colour, marker) per ensemble, in config order."""
    return {n: (PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)])
            for i, n in enumerate(names)}


def ensemble_label(name: str, spec: dict) -> str:
    """The ensemble's name and its keys, e.g. 'cv0.1 (indegree_cv, CV 0.1, ρ 0.9)'."""
    parts = [spec.get("connectivity", "fixed_indegree")]
    for key, short in (("indegree_cv", "CV"), ("indegree_rho", "ρ"), ("u_cv", "CV_u"),
                       ("tau_D_cv", "CV_τD")):
        if spec.get(key):
            parts.append(f"{short} {spec[key]:g}")
    return f"{name} ({', '.join(parts)})"


def _settings_text(section: dict, model: dict) -> str:
    return (f"J0 = {section['J0_stationary']:g} (stationary: RK4 for {section['t_settle']:g} τ, "
            f"then Newton to |F| < 1e-10) and {section['J0_chaos']:g} (Rate Chaos: time averages "
            f"over {section['t_record']:g} τ after {section['t_transient']:g} τ); near-silent: "
            f"rate < {section['silent_rate']:g}/τ; dt = {section['dt']:g} τ. Model: "
            f"{model_caption(model)}.")


def rate_distribution_figure(files: dict, section: dict, model: dict):
    """Rate CDFs across neurons, per ensemble (rows) and population (columns), at the
    largest N: the stationary state (solid) against the theory of the same network
    (dashed), and the time-averaged rates in Rate Chaos (dotted). files: ensemble ->
    read_point output of one network."""
    use_style()
    names = list(files)
    fig, axes = plt.subplots(len(names), 2, figsize=(8, 2.3 * len(names) + 0.6),
                             squeeze=False, sharex="col")
    styles = ensemble_styles(section["ensembles"])
    for i, ens in enumerate(names):
        d = files[ens]
        color = styles[ens][0]
        for j, a in enumerate(POPULATIONS):
            ax = axes[i, j]
            st, ch = d["stationary"]["arrays"], d["chaos"]["arrays"]
            ax.plot(st[f"q_{a}"], QUANTILE_PROBS, "-", color=color, lw=1.8,
                    label=f"stationary, J0 = {section['J0_stationary']:g}")
            ax.plot(st[f"theory_q_{a}"], QUANTILE_PROBS, "--", color="0.1", lw=1,
                    label="theory (this network)")
            ax.plot(ch[f"q_{a}"], QUANTILE_PROBS, ":", color=color, lw=1.5,
                    label=f"Rate Chaos, J0 = {section['J0_chaos']:g} (time-averaged)")
            ax.axvline(section["silent_rate"], color="0.6", lw=0.8)
            ax.set_xscale("symlog", linthresh=0.01)
            ax.set_ylim(0, 1)
            ax.set_title(f"{ensemble_label(ens, section['ensembles'][ens])}: {a}", fontsize=9)
            if j == 0:
                ax.set_ylabel("fraction of neurons")
            if i == len(names) - 1:
                ax.set_xlabel(f"rate ν_{a} (1/τ)")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    N = int(next(iter(files.values()))["params"]["N"])
    seed = int(next(iter(files.values()))["params"]["seed"])
    fig.tight_layout()
    caption(fig, f"Cumulative distribution of the rates across neurons, N = {N}, seed {seed}; "
                 f"grey line: the near-silent level. {_settings_text(section, model)}")
    return fig


def _measured(ax, points, key, styles, filled=True, floor=None):
    for ens, g in points.groupby("ensemble", sort=False):
        if floor is not None:  # a log axis: values at round-off are not drawn
            g = g[g[key] > floor]
        per = g.groupby("K_E")[key].agg(["mean", "std", "count"]).reset_index()
        color, marker = styles[ens]
        err = np.where(per["count"] > 1, per["std"] / np.sqrt(per["count"]), np.nan)
        ax.errorbar(per.K_E, per["mean"], yerr=err, fmt=marker, color=color,
                    mfc=color if filled else "white", ms=6, capsize=2, lw=1)


def scaling_figure(points, theory, section: dict, model: dict):
    """Quenched input variance (top) and near-silent fraction (bottom) vs K for E and I:
    stationary states (filled), Rate Chaos time averages (open), the ensemble theory at
    J0_stationary (lines)."""
    use_style()
    fig, axes = plt.subplots(2, 2, figsize=(9, 7))
    styles = ensemble_styles(section["ensembles"])
    for j, a in enumerate(POPULATIONS):
        for i, (stat, label, log) in enumerate(((f"var_h_{a}", f"Var over {a} neurons of h", True),
                                                (f"silent_{a}", f"near-silent fraction of {a}", False))):
            ax = axes[i, j]
            floor = ROUND_OFF_VARIANCE if log else None
            for ens, g in theory.groupby("ensemble", sort=False):
                if stat in g:
                    g = g[g[stat] > floor] if log else g
                    ax.plot(g.K, g[stat], "-", color=styles[ens][0], lw=1)
            _measured(ax, points, f"stat_{stat}", styles, filled=True, floor=floor)
            _measured(ax, points, f"chaos_{stat}", styles, filled=False, floor=floor)
            ax.set_xscale("log")
            if log:
                ax.set_yscale("log")
            ax.set_xlabel("K = K_E (mean excitatory in-degree)")
            ax.set_ylabel(label + (" (input units²)" if log else ""))
    for ens, (color, marker) in styles.items():
        axes[0, 0].plot([], [], marker + "-", color=color,
                        label=ensemble_label(ens, section["ensembles"][ens]))
    axes[0, 0].plot([], [], "o", color="0.3", mfc="white", label=f"Rate Chaos, J0 = {section['J0_chaos']:g}")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    caption(fig, "Filled: stationary state at J0 = {:g} (mean ± s.e. over realizations); open: "
                 "time averages in Rate Chaos; lines: the stationary theory of the ensemble at "
                 "J0 = {:g}. The paper's network (fixed) has no spread of inputs in its "
                 "stationary state: not drawn on the log axes. {}".format(section["J0_stationary"], section["J0_stationary"],
                                        _settings_text(section, model)))
    return fig


def phase_figure(phase, points, section: dict, model: dict):
    """The stationary theory's phase diagram in (CV, J0) for gamma in-degrees with rho = 0:
    colour, the larger near-silent fraction of E and I at the largest N; contours, where it
    equals silent_max at each N (balance holds below and left of each); markers, the
    measured J_FP of the networks with rho = 0."""
    use_style()
    ph = section["phase"]
    fig, ax = plt.subplots(figsize=(7, 5))
    top = phase[phase.N == max(ph["N"])]
    cvs, J0s = sorted(set(phase.cv)), sorted(set(phase.J0))
    grid = np.full((len(J0s), len(cvs)), np.nan)
    for _, r in top.iterrows():
        grid[J0s.index(r.J0), cvs.index(r.cv)] = max(r.get("silent_E", np.nan),
                                                   r.get("silent_I", np.nan))
    mesh = ax.pcolormesh(cvs, J0s, grid, shading="nearest", cmap="viridis", vmin=0,
                         vmax=max(0.5, float(np.nanmax(grid)) if np.isfinite(grid).any() else 0.5))
    fig.colorbar(mesh, ax=ax, label=f"near-silent fraction (max of E, I), N = {max(ph['N'])}")
    for k, N in enumerate(sorted(ph["N"])):
        g = phase[phase.N == N]
        z = np.full((len(J0s), len(cvs)), np.nan)
        for _, r in g.iterrows():
            z[J0s.index(r.J0), cvs.index(r.cv)] = max(r.get("silent_E", np.nan),
                                                    r.get("silent_I", np.nan))
        if np.isfinite(z).sum() >= 4 and np.nanmin(z) < ph["silent_max"] < np.nanmax(z):
            cs = ax.contour(cvs, J0s, z, levels=[ph["silent_max"]],
                            colors=[plt.cm.Greys(0.35 + 0.6 * k / max(1, len(ph["N"]) - 1))])
            ax.plot([], [], "-", color=cs.colors[0] if hasattr(cs, "colors") else "0.3",
                    label=f"silent fraction = {ph['silent_max']:g}, N = {N}")
    sp = section["ensembles"]
    for ens, g in points.groupby("ensemble"):
        spec = sp.get(ens, {})
        if spec.get("indegree_rho", 0) != 0 or spec.get("u_cv") or spec.get("tau_D_cv"):
            continue
        cv = spec.get("indegree_cv", 0.0) if spec.get("connectivity") == "indegree_cv" else (
            0.0 if spec.get("connectivity", "fixed_indegree") == "fixed_indegree" else None)
        if cv is None or "jfp_J_FP" not in g:
            continue
        for N, gn in g.groupby("N"):
            v = gn.jfp_J_FP.to_numpy(float)
            v = v[np.isfinite(v)]
            if v.size:
                ax.errorbar(cv, v.mean(), yerr=v.std() if v.size > 1 else None, fmt="w^",
                            mec="k", ms=6, capsize=2)
    ax.plot([], [], "w^", mec="k", label="measured J_FP (mean ± sd over realizations)")
    ax.set_xlabel("coefficient of variation of the in-degrees (ρ = 0)")
    ax.set_ylabel("J0")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    caption(fig, "Stationary theory of gamma in-degrees (ρ = 0; CV 0: the paper's network): "
                 f"balance is counted as holding where at most {ph['silent_max']:g} of the E and "
                 f"of the I neurons are near-silent (rate < {section['silent_rate']:g}/τ). Above "
                 "J_FP the stationary state is unstable and the theory describes it, not the "
                 f"dynamics. {_settings_text(section, model)}")
    return fig


def width_figure(widths, per, section: dict, model: dict):
    """J_FP and J_ch per realization vs N (left) and the width J_ch - J_FP (right), per
    searched ensemble: small markers the realizations (J_ch with its interval), large the
    per-N means with their standard errors; a realization without J_FP still shows its
    J_ch. Ensembles sit side by side around each N (a small shift on the log axis)."""
    use_style()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    styles = ensemble_styles(section["ensembles"])
    names = list(dict.fromkeys(widths.ensemble)) if len(widths) else []
    spread = {n: (i - (len(names) - 1) / 2) * 0.012 for i, n in enumerate(names)}
    for ens in names:
        color, marker = styles[ens]
        g = widths[widths.ensemble == ens]
        x = g.N.to_numpy(float) * 10 ** spread[ens]  # side by side on the log axis
        lo = (g.J_ch - g.J_ch_ci_lo).clip(lower=0).to_numpy(float)
        hi = (g.J_ch_ci_hi - g.J_ch).clip(lower=0).to_numpy(float)
        axes[0].errorbar(x, g.J_ch, yerr=np.nan_to_num(np.vstack([lo, hi])), fmt=marker,
                         color=color, ms=4, lw=0.8, capsize=1.5, alpha=0.7)
        axes[0].plot(x, g.J_FP, marker, color=color, mfc="white", ms=4, alpha=0.7)
        axes[1].plot(x, g.width, marker, color=color, ms=4, alpha=0.6)
        p = per[per.ensemble == ens]
        for ax, q, mfc in ((axes[0], "J_ch", color), (axes[0], "J_FP", "white"),
                           (axes[1], "width", color)):
            m = p[p[f"{q}_n"] > 0]
            # one standard error (never below the measurement floor): with two or three
            # realizations a 95 % t interval spans the whole axis and hides the points
            ax.errorbar(m.N.to_numpy(float) * 10 ** spread[ens], m[f"{q}_mean"],
                        yerr=mean_standard_errors(m, q),
                        fmt=marker + "-", color=color, mfc=mfc, ms=8, lw=1.2, capsize=3,
                        alpha=0.85)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("N (neurons)")
    axes[0].set_ylabel("coupling J0 (dimensionless)")
    axes[0].set_title("J_ch (filled) and J_FP (open)")
    axes[1].set_ylabel("width J_ch − J_FP (dimensionless)")
    axes[1].axhline(0, color="0.5", lw=0.8, ls=":")
    axes[1].set_title("width of the transition region")
    for ens in names:
        color, marker = styles[ens]
        axes[1].plot([], [], marker + "-", color=color,
                     label=ensemble_label(ens, section["ensembles"][ens]))
    if names:
        axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    o = section.get("onset", {})
    caption(fig, "Per realization (small markers) and per-N means ± one standard error over "
                 "realizations, never below the measurement error (large; the 95% t intervals "
                 "are in tables/heterogeneity_width.csv). J_ch: the zero crossing of λ_max(J0) fitted to the onset search's "
                 f"probes (grid J0 = {o.get('J0')}, bisection to {o.get('resolution')}; each probe "
                 f"RK4 for {o.get('t_transient')} τ, then λ_max over {o.get('t_average')} τ "
                 f"after 20 τ of alignment, up to {o.get('max_extensions')} extensions while "
                 f"undecided, zero_tol {o.get('zero_tol')}), with its 95% profile interval. "
                 "J_FP: where the stationary branch followed up from J0 = "
                 f"{section['J0_stationary']:g} loses stability (continuation step "
                 f"{section['jfp']['step']:g}, bisection to {section['jfp']['tol']:g}). "
                 + _settings_text(section, model))
    return fig
