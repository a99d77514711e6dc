"""Asynchrony of the population activity: excess factor, spectrum and verdict vs N.

For a signal r_j (nu_E, nu_I, or x nu_E) of a population of N_b neurons, the variance
of its population mean R(t) = (1/N_b) sum_j r_j(t) is

    Var(R) = <A>/N_b + (1 - 1/N_b) <C>,    <A> = mean single-neuron variance,
                                          <C> = mean pairwise covariance,

so the excess factor X = N_b Var(R) / <A> = chi^2 N_b (chi^2 = Var(R)/<A>, Golomb's
synchrony measure) is 1 for independent neurons and 1 + (N_b - 1) <C>/<A> in general.
An asynchronous state has <C> = O(1/N): X stays finite as N grows. A collective mode
(<C> = O(1)) makes X grow like N. X < 1 means negative mean correlations
(decorrelation by inhibitory feedback).

The spectrum of R (Welch, one-sided density) scaled by N_b/<A> integrates to X; a
collective mode shows as a peak that rises with N, asynchrony as curves that collapse.

Verdict per signal: the power law X ~ N^beta and the saturating X = a + b N^-1/2 are
both fitted and compared, not assumed. Saturates if the power law's beta interval
contains 0; undecided if a saturating fit (a > 0) and a growing (or decaying) power law
both pass the lack-of-fit test (p >= 0.05); grows / falls if only the power law passes;
neither if both are rejected. Separately: whether beta = 1 (a collective mode) is
excluded at 95 %.

Uncertainty of X within one recording: a batch-means interval (stdnet.stats) of
the mean of N_b (R - mean R)^2 / <A>, which respects the autocorrelation of R.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import signal as sps
from scipy import stats

from stdnet.correlations.cancellation import signal_slices
from stdnet.stats import (
    batch_means_ci,
    fill_single_realization_se,
    fit_offset_power,
    fit_power_law,
    sample_mean,
)

#: a model whose lack-of-fit p-value is below this is rejected
P_REJECT = 0.05
#: sizes needed for a verdict (two sizes are an exact, untested power law)
MIN_SIZES = 3
SIGNAL_LABELS = {"nu_E": "E rates ν_E", "nu_I": "I rates ν_I", "xnu_E": "E→E drive x·ν_E"}


def excess_factor(pop_mean: np.ndarray, mean_var: float, N_b: int) -> dict:
    """X = N_b Var(R)/<A> with its batch-means 95 % half width (inf if undecidable)."""
    R = np.asarray(pop_mean, dtype=float)
    z = N_b * (R - R.mean()) ** 2 / mean_var
    ci = batch_means_ci(z)
    # ddof = 1 for the point value, like every other variance of the recording
    X = float(N_b * R.var(ddof=1) / mean_var)
    return {"excess": X, "excess_half": float(ci.half_width), "chi2": X / N_b}


def population_spectrum(pop_mean: np.ndarray, mean_var: float, N_b: int, dt: float,
                        segment: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch spectrum of R scaled by N_b/<A> (integrates to about X); frequency in 1/tau."""
    R = np.asarray(pop_mean, dtype=float)
    nper = int(min(max(8, round(segment / dt)), R.size))
    f, S = sps.welch(R, fs=1.0 / dt, nperseg=nper, detrend="constant", scaling="density")
    return f, S * N_b / mean_var


def spectrum_peak(f: np.ndarray, S: np.ndarray) -> dict:
    """The highest point of the spectrum above f = 0 and its ratio to the median."""
    k = 1 + int(np.argmax(S[1:])) if S.size > 1 else 0
    med = float(np.median(S[1:])) if S.size > 1 else math.nan
    return {"peak_f": float(f[k]), "peak_S": float(S[k]),
            "peak_ratio": float(S[k] / med) if med > 0 else math.nan}


def recording_asynchrony(rec: dict, params, segment: float) -> tuple[dict, dict]:
    """Excess factors, spectra and their peaks of one recording: (stats, spectra)."""
    dt = float(rec["time"][1] - rec["time"][0])
    sl = signal_slices(params)
    sizes = {"xnu_E": params.N_E, "nu_E": params.N_E, "nu_I": params.N_I}
    out, spectra = {}, {}
    for sig, N_b in sizes.items():
        A = float(rec["presyn_var"][sl[sig]].mean())
        R = rec[f"pop_{sig}"]
        st = excess_factor(R, A, N_b)
        f, S = population_spectrum(R, A, N_b, dt, segment)
        st.update(spectrum_peak(f, S))
        st["mean_var"] = A
        out.update({f"async.{sig}.{k}": v for k, v in st.items()})
        spectra["f"] = f
        spectra[sig] = S
    return out, spectra


# ---- across N ------------------------------------------------------------------
def per_N(table: pd.DataFrame, quantity: str, half_col: str | None = None,
          level: float = 0.95) -> pd.DataFrame:
    """Per N: realizations, mean, standard error of one column (across seeds; with one
    seed, the larger of the recording's own batch-means error and the pooled relative
    spread of the other sizes: stats.fill_single_realization_se)."""
    rows = []
    for N, g in table.groupby("N"):
        v = g[quantity].to_numpy(float)
        s = sample_mean(v[np.isfinite(v)], level)
        if s["n"] == 0:
            continue
        within = math.nan
        if half_col is not None and s["n"] == 1 and np.isfinite(g[half_col].iloc[0]):
            within = float(g[half_col].iloc[0] / stats.norm.ppf(0.5 + level / 2))
        rows.append({"N": int(N), "n": s["n"], "mean": s["mean"], "se": s["se"],
                     "se_source": "", "within": within})
    per = pd.DataFrame(rows, columns=["N", "n", "mean", "se", "se_source", "within"])
    return fill_single_realization_se(per, within=per.within).drop(columns="within")


def asynchrony_fits(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per J0 and signal: per-N excess factors and the two fits (power law: grows if
    its exponent is > 0; a + b N^-1/2: saturates at a)."""
    per, fits = [], []
    for J0, g in table.groupby("J0"):
        for sig in SIGNAL_LABELS:
            col = f"async.{sig}.excess"
            if col not in g:
                continue
            p = per_N(g, col, f"async.{sig}.excess_half")
            p.insert(0, "signal", sig)
            p.insert(0, "J0", J0)
            per.append(p)
            for fit in (fit_power_law(p.N, p["mean"], p.se),
                        fit_offset_power(p.N, p["mean"], p.se)):
                fits.append({"J0": J0, "signal": sig, **fit})
    return (pd.concat(per, ignore_index=True) if per else pd.DataFrame(),
            pd.DataFrame(fits))


def _acceptable(fit) -> bool:
    """A fit whose lack of fit is not rejected at 5 % (unweighted fits: not testable)."""
    return fit.status in ("ok", "unweighted") and not (fit.p_lack_of_fit < P_REJECT)


def _verdict_word(pl, off) -> str:
    """Compare the two models rather than assume one (module doc)."""
    pl_ok, off_ok = _acceptable(pl), _acceptable(off)
    saturating = off_ok and off.a_lo > 0
    if pl_ok and pl.exponent_lo <= 0 <= pl.exponent_hi:
        return "SATURATES (consistent with an N-independent X: asynchronous)"
    if pl_ok and saturating:
        trend = "slow growth" if pl.exponent_lo > 0 else "a decay"
        return (f"UNDECIDED between saturation at X_inf = {off.a:.3g} [{off.a_lo:.3g}, "
                f"{off.a_hi:.3g}] and {trend} ~ N^{pl.exponent:.2f}: both fit these sizes")
    if pl_ok:
        if pl.exponent_lo > 0:
            return ("GROWS with N" + (", consistent with a collective mode (beta = 1 "
                                      "inside the interval)" if pl.exponent_hi >= 1 else
                                      ", slower than a collective mode"))
        return "FALLS with N"
    if saturating:
        return f"SATURATES at X_inf = {off.a:.3g} [{off.a_lo:.3g}, {off.a_hi:.3g}]"
    return (f"NEITHER model fits (lack of fit p < {P_REJECT:g} for both): X(N) is not "
            "described by these forms; read the per-N values")


def verdict(per: pd.DataFrame, fits: pd.DataFrame) -> str:
    """Saturates / grows / falls, per J0 and signal, from the power-law exponent's CI."""
    lines = ["Asynchrony of the population activity: excess factor X = N Var(pop. mean) / "
             "<single-neuron variance> (1 for independent neurons; grows like N for a "
             "collective mode).", ""]
    if fits.empty:
        return "\n".join(lines + ["No recordings."]) + "\n"
    for (J0, sig), g in fits.groupby(["J0", "signal"]):
        p = per[(per.J0 == J0) & (per.signal == sig)]
        pl = g[g.model == "A x^beta"].iloc[0]
        off = g[g.model != "A x^beta"].iloc[0]
        pts = ", ".join(f"N={r.N}: {r['mean']:.3g}±{r.se:.2g} ({r.n})" for _, r in p.iterrows())
        head = f"J0 = {J0:g}, {SIGNAL_LABELS[sig]}: {pts}"
        if (pl.status not in ("ok", "unweighted") or not np.isfinite(pl.exponent_lo)
                or pl.n_points < MIN_SIZES):
            lines += [head, f"  verdict: undetermined (power-law fit: {pl.status}, "
                            f"{int(pl.n_points)} sizes; a verdict needs {MIN_SIZES})", ""]
            continue
        lo, hi = pl.exponent_lo, pl.exponent_hi
        word = _verdict_word(pl, off)
        collective = (f"a collective mode (X ~ N) is excluded at 95 % (beta < {hi:.3f})"
                      if hi < 1 else "a collective mode (X ~ N) is not excluded")
        lines += [head,
                  f"  X ~ N^beta: beta = {pl.exponent:.3f} [{lo:.3f}, {hi:.3f}] (95 %), "
                  f"chi2 = {pl.chi2:.2f} on {int(pl.dof)} dof, p = {pl.p_lack_of_fit:.3g}",
                  f"  X = a + b N^-1/2: a = {off.a:.3g} [{off.a_lo:.3g}, {off.a_hi:.3g}], "
                  f"chi2 = {off.chi2:.2f} on {int(off.dof)} dof, p = {off.p_lack_of_fit:.3g}",
                  f"  verdict: {word}; {collective}.", ""]
    return "\n".join(lines) + "\n"
