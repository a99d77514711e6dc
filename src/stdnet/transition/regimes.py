"""Regime of each run, and the transition per realization: J_FP, J_ch, width, fit vs N.

The chaos decision of one run is stdnet.lyapunov.decision.chaos_decision (the Lyapunov stage
records it in every lyapunov.h5; `classify` applies the same rule).

Classification of one run (thresholds in config section `transition`):

1. chaos            chaos_decision(lambda_1, CI_1, zero_tol) == "chaotic"
2. fixed point      lambda_1 + CI_1 < -zero_tol (all exponents negative), or the
                    inputs do not move (temporal_sd < temporal_sd_tol);
                    homogeneous if the neurons' time-mean inputs agree within a
                    population (spatial_sd < spatial_sd_tol), else heterogeneous
3. periodic         a stable periodic orbit certified by its Poincare returns
                    (stdnet.lyapunov.attractor; lyapunov.cycle_check, column cycle_found)
4. quasi-periodic   otherwise, when >= 2 of the m exponents are zero
                    (|lambda_k| <= zero_tol + CI_k)
5. periodic         otherwise (one zero exponent: the direction of the flow)

Per realization (N, seed), `transition_table` puts both ends together: J_FP where the
homogeneous fixed point is lost (the stability stage's Jacobian search when its table is
given, else the first grid J0 that is not a homogeneous fixed point) and J_ch, the onset of
chaos (the onset search's estimate with its standard error J_ch_se, stdnet.onset.search, when its
table is given, else the smallest grid J0 from which every larger grid point is chaotic),
each with its resolution; the width J_ch - J_FP whatever its sign; the route, the sequence
of regimes crossed on the grid. Its statistics vs N: stdnet.transition.width.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stdnet.files.errors import InputFileError
from stdnet.lyapunov.decision import CHAOTIC, chaos_decision

HOM_FP, HET_FP, PERIODIC, QUASI, CHAOS = ("homogeneous FP", "heterogeneous FP", "periodic",
                                          "quasi-periodic", "chaos")
REGIMES = (HOM_FP, HET_FP, PERIODIC, QUASI, CHAOS)
SHORT = {HOM_FP: "hFP", HET_FP: "xFP", PERIODIC: "P", QUASI: "QP", CHAOS: "C"}


@dataclass(frozen=True)
class Thresholds:
    """Classification thresholds (config section `transition`)."""

    zero_tol: float = 0.005
    temporal_sd_tol: float = 1e-3
    spatial_sd_tol: float = 1e-3

    @classmethod
    def from_config(cls, transition) -> "Thresholds":
        """The thresholds of config section `transition` (other keys are ignored)."""
        return cls(**{k: transition[k] for k in ("zero_tol", "temporal_sd_tol",
                                                 "spatial_sd_tol")})

    def __post_init__(self):
        for k in ("zero_tol", "temporal_sd_tol", "spatial_sd_tol"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"transition.{k}: invalid value {v!r}; allowed: a number >= 0")


def classify(exponents, half_width, temporal_sd: float, spatial_sd: float,
             th: Thresholds = Thresholds(), cycle_found: bool = False) -> str:
    """The regime of one run from its exponents (descending) with CIs and its spreads.

    Chaos exactly when chaos_decision says "chaotic"; an undecided run goes on to the
    other tests (the `decision` column of the lyapunov table keeps the verdict).
    cycle_found: the run's trajectory was certified periodic (stdnet.lyapunov.attractor); its
    exponents were then averaged only up to the first look, too briefly to count zeros.
    """
    lam = np.asarray(exponents, dtype=float)
    ci = np.nan_to_num(np.asarray(half_width, dtype=float), nan=np.inf, posinf=np.inf)
    if chaos_decision(lam[0], ci[0], th.zero_tol) == CHAOTIC:
        return CHAOS
    if lam[0] + ci[0] < -th.zero_tol or temporal_sd < th.temporal_sd_tol:
        return HOM_FP if spatial_sd < th.spatial_sd_tol else HET_FP
    if cycle_found:
        return PERIODIC
    n_zero = int(np.sum(np.abs(lam) <= th.zero_tol + ci))
    return QUASI if n_zero >= 2 else PERIODIC


def classify_table(runs: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Add a `regime` column to a table with lambda_k / ci_k columns and the spreads."""
    lam_cols = sorted((c for c in runs.columns if c.startswith("lambda_") and c[7:].isdigit()),
                      key=lambda c: int(c[7:]))
    ci_cols = [f"ci_{c[7:]}" for c in lam_cols]
    out = runs.copy()
    out["regime"] = [
        classify(row[lam_cols].to_numpy(float), row[ci_cols].to_numpy(float),
                 row["temporal_sd"], row["spatial_sd"], th,
                 str(row.get("cycle_found", False)) == "True")  # NaN / absent: False
        for _, row in runs.iterrows()]
    return out


def route(regimes) -> str:
    """The sequence of regimes along increasing J0, repeats collapsed ('hFP > P > C')."""
    seq = []
    for r in regimes:
        if not seq or seq[-1] != r:
            seq.append(r)
    return " > ".join(SHORT.get(r, r) for r in seq)


def chaos_onset(J0, regimes) -> tuple[float, float]:
    """(J_ch, J_below): the smallest grid J0 from which all larger ones are chaotic, and the
    grid point just below it (NaN where there is none). J_ch is NaN when the largest
    J0 is not chaotic."""
    order = np.argsort(J0)
    J = np.asarray(J0, dtype=float)[order]
    reg = [regimes[i] for i in order]
    if not reg or reg[-1] != CHAOS:
        return math.nan, (float(J[-1]) if len(J) else math.nan)
    k = len(reg) - 1
    while k > 0 and reg[k - 1] == CHAOS:
        k -= 1
    return float(J[k]), (float(J[k - 1]) if k > 0 else math.nan)


def fp_loss(J0, regimes) -> float:
    """The first grid J0 that is not a homogeneous fixed point (NaN if all are)."""
    order = np.argsort(J0)
    for i in order:
        if regimes[i] != HOM_FP:
            return float(J0[i])
    return math.nan


def check_covers(regimes: pd.DataFrame, table: pd.DataFrame | None, name: str,
                 rule: str, N_values=None, seeds=None) -> None:
    """InputFileError unless `table` (the stage's per-realization table, e.g. jfp.csv) has a
    row for every realization (N, seed) of `regimes` (with N in N_values and seed in
    seeds, if given: the realizations that stage computes). Why: transition_table falls back to
    the J0 grid for a missing realization, which is right for a partial table by design
    but silently wrong for a table older than the grid (seen: jfp.csv without N = 4000 after
    the grid grew, and J_FP = 0.9 from the grid at every seed)."""
    if table is None:
        return
    have = set(zip(table["N"].astype(int), table["seed"].astype(int)))
    want = sorted(set(zip(regimes["N"].astype(int), regimes["seed"].astype(int))))
    if N_values is not None:
        want = [k for k in want if k[0] in {int(n) for n in N_values}]
    if seeds is not None:
        want = [k for k in want if k[1] in {int(s) for s in seeds}]
    missing = [k for k in want if k not in have]
    if missing:
        shown = ", ".join(f"(N={N}, seed={s})" for N, s in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise InputFileError(
            f"{name} has no row for {len(missing)} realization(s) of the grid: {shown}{more}; "
            f"it is older than the grid: rerun its rule (snakemake --forcerun {rule}), or "
            "delete it")


def transition_table(regimes: pd.DataFrame, jfp: pd.DataFrame | None = None,
                     onset: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per realization (N, seed): J_FP with its source and resolution, J_ch with
    its bracket, resolution and search status, the width J_ch - J_FP and the route.

    regimes: classify_table's output; jfp: the stability stage's table (J_FP, J0_lo, J0_hi,
    crossing); onset: stdnet.onset.search rows (J_ch, J_ch_lo, J_ch_hi, J_ch_resolution,
    onset_status, and J_ch_se, J_ch_ci_lo, J_ch_ci_hi, J_ch_method, J_ch_demonstrated).
    A realization missing from jfp / onset keeps the grid value (source column says
    which). J_ch_se is J_ch's standard error (the onset estimator's, or bracket / sqrt(12)
    for a bracket: grid, demonstrated onset), the per-realization measurement error.
    """
    def lookup(table, N, seed):
        if table is None:
            return None
        hit = table[(table["N"] == N) & (table["seed"] == seed)]
        return hit.iloc[0] if len(hit) else None

    rows = []
    for (N, seed), g in regimes.groupby(["N", "seed"], sort=True):
        g = g.sort_values("J0")
        J = g["J0"].to_numpy(float)
        reg = list(g["regime"])
        J_ch, J_below = chaos_onset(J, reg)
        row = {"N": int(N), "seed": int(seed), "J_FP": fp_loss(J, reg),
               "J_FP_source": "regimes", "J_FP_resolution": _grid_step_below(J, fp_loss(J, reg)),
               "crossing": "", "J_ch": J_ch, "J_ch_lo": J_below, "J_ch_hi": J_ch,
               "J_ch_source": "grid", "J_ch_resolution": J_ch - J_below,
               "onset_status": "grid", "J_ch_se": (J_ch - J_below) / math.sqrt(12),
               "J_ch_ci_lo": J_below, "J_ch_ci_hi": J_ch, "J_ch_method": "grid",
               "J_ch_demonstrated": J_ch}
        if (hit := lookup(jfp, N, seed)) is not None:
            row.update(J_FP=float(hit["J_FP"]), J_FP_source="stability",
                       J_FP_resolution=float(hit["J0_hi"] - hit["J0_lo"])
                       if "J0_lo" in hit else math.nan,
                       crossing=str(hit.get("crossing", "")))
        if (hit := lookup(onset, N, seed)) is not None:
            row.update(J_ch=float(hit["J_ch"]), J_ch_lo=float(hit["J_ch_lo"]),
                       J_ch_hi=float(hit["J_ch_hi"]), J_ch_source="onset search",
                       J_ch_resolution=float(hit["J_ch_resolution"]),
                       onset_status=str(hit["onset_status"]),
                       n_undecided=int(hit.get("n_undecided", 0)),
                       J_ch_weak=float(hit.get("J_ch_weak", math.nan)))
            # the estimator's error and interval (stdnet.onset.estimate); an onset table
            # from before them: the demonstrated midpoint, se from its bracket
            demonstrated = float(hit.get("J_ch_demonstrated", hit["J_ch"]))
            row.update(J_ch_demonstrated=demonstrated,
                       J_ch_se=float(hit.get("J_ch_se", row["J_ch_resolution"] / math.sqrt(12))),
                       J_ch_ci_lo=float(hit.get("J_ch_ci_lo", row["J_ch_lo"])),
                       J_ch_ci_hi=float(hit.get("J_ch_ci_hi", row["J_ch_hi"])),
                       J_ch_method=str(hit.get("J_ch_method", "demonstrated")))
        row.update(width=row["J_ch"] - row["J_FP"], route=route(reg), n_J0=len(J))
        rows.append(row)
    return pd.DataFrame(rows)


def _grid_step_below(J, J0) -> float:
    """The grid spacing below the grid point J0 (the resolution of a grid-located end)."""
    i = np.searchsorted(J, J0)
    return float(J[i] - J[i - 1]) if 0 < i < len(J) and J[i] == J0 else math.nan
