"""Pairwise input covariance of one recording, decomposed per presynaptic block.

Target neurons i != k of population a (the sampled ones) receive from block b the input
u^b_i = w_ab sum_{j in P^b_i} r_j, with w_aE = Jc g_aE, w_aI = -Jc g_aI and the signal
r seen by that block (x nu for E->E, nu otherwise). With A_j = Var(r_j) and
C_jl = Cov(r_j, r_l), the covariance of two targets' block inputs is exactly

    Cov(u^b_i, u^b'_k) = w_ab w_ab' [ delta_bb' sum_{j in P_i & P_k} A_j              (shared input)
                                      + sum_{j in P^b_i, l in P^b'_k, j != l} C_jl ]   (correlations)

Averaged over the n (n - 1) ordered pairs of sampled targets, both terms follow from
quantities recorded over all neurons, with n_j = the number of sampled targets that j
projects to and W_b(t) = sum_j n_j r_j(t) (so that sum_i u^b_i = w_ab W_b):

    shared_bb = w^2 sum_j n_j (n_j - 1) A_j / (n (n - 1))
    corr_bb'  = [ w w' Cov(W_b, W_b') - delta_bb' w^2 sum_j n_j^2 A_j
                  - sum_i ( Cov(u^b_i, u^b'_i) - delta_bb' w^2 sum_{j in P_i} A_j ) ] / (n (n - 1))

(sum_i sum_{j in P_i} A_j = sum_j n_j A_j). The directly measured mean pairwise
covariance of the recorded inputs equals shared + corr up to round-off; the residual is
reported for every block. The cross block (b = E, b' = I) has no shared term; it is
reported as its contribution to the total, 2 x the mean over ordered pairs.

Mean-field forms (what balanced-network theory writes, Renart et al. 2010, Tetzlaff et
al. 2012, Helias et al. 2014): shared = w^2 (K_b^2 / N_b) <A>_b (two random K_b-subsets
share K_b^2/N_b partners on average), corr = w w' K_b K_b' C_bb' with C_bb' the mean
pairwise covariance of the signals, from the variance of their population means.

Noise floors: circular-shift surrogates. Each target's pair (u^E_i, u^I_i) is rolled by
its own random offset, which keeps every series and the within-target E-I covariance and
destroys the covariance between targets; the floor of a mean pairwise covariance is the
standard deviation of its surrogate values. The shared-input and correlation terms of a
block share the floor of its measured covariance (the surrogate leaves the variances A_j
unchanged, so it moves only the part that the pairs contribute).
"""
from __future__ import annotations

import math

import numpy as np

from .correlations import BLOCK_SIGNAL, BLOCKS
from .params import ModelParams
from .seeding import rng as seeded_rng
from .stats import fill_single_realization_se, fit_offset_power, fit_power_law, sample_mean

#: the reported blocks: E->E-like and I->I-like same-block pairs and the E-I cross term
BLOCK_NAMES = ("E", "I", "cross")


def signal_slices(params: ModelParams) -> dict[str, slice]:
    """Where each presynaptic signal lies on the layout of the recorded moments."""
    N_E, N_I = params.N_E, params.N_I
    return {"xnu_E": slice(0, N_E), "nu_E": slice(N_E, 2 * N_E),
            "nu_I": slice(2 * N_E, 2 * N_E + N_I)}


def block_weights(params: ModelParams, target: str) -> dict[str, float]:
    """Signed weight of one synapse of each block onto target population `target`."""
    g = {"E": (params.g_EE, params.g_EI), "I": (params.g_IE, params.g_II)}[target]
    return {"E": params.coupling * g[0], "I": -params.coupling * g[1]}


def _cov(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a - a.mean(), b - b.mean()) / (a.size - 1))


def _pairwise_mean(U: np.ndarray, V: np.ndarray) -> float:
    """Mean over ordered pairs i != k of Cov(U_i, V_k) (columns = targets), directly
    from the matrix of temporal covariances."""
    n_t, n = U.shape
    Uc, Vc = U - U.mean(axis=0), V - V.mean(axis=0)
    C = Uc.T @ Vc / (n_t - 1)
    return float((C.sum() - np.trace(C)) / (n * (n - 1)))


def _diag_cov_sum(U: np.ndarray, V: np.ndarray) -> float:
    """sum_i Cov(U_i, V_i)."""
    n_t = U.shape[0]
    return float(np.sum((U - U.mean(axis=0)) * (V - V.mean(axis=0))) / (n_t - 1))


def decompose(rec: dict, params: ModelParams) -> dict:
    """Shared-input and correlation terms, measured covariance, identity residual and
    mean-field forms per target population and block (flat dict `<a>.<block>.<term>`)."""
    out: dict = {}
    nE = int(rec["n_E"])
    sl_sig = signal_slices(params)
    A = rec["presyn_var"]
    pop_series = {"xnu_E": rec["pop_xnu_E"], "nu_E": rec["pop_nu_E"], "nu_I": rec["pop_nu_I"]}
    pop_size = {"xnu_E": params.N_E, "nu_E": params.N_E, "nu_I": params.N_I}
    K = {"E": params.K_E, "I": params.K_I}
    for a, cols in (("E", slice(0, nE)), ("I", slice(nE, None))):
        U = {"E": rec["E"][:, cols], "I": rec["I"][:, cols]}
        n = U["E"].shape[1]
        out[f"{a}.n_targets"] = n
        if n < 2:
            continue
        npairs = n * (n - 1)
        w = block_weights(params, a)
        sig = {b: BLOCK_SIGNAL[(a, b)] for b in ("E", "I")}
        cnt = {b: rec["counts"][BLOCKS.index((a, b))][sl_sig[sig[b]]] for b in ("E", "I")}
        Wt = {b: rec["W"][:, BLOCKS.index((a, b))] for b in ("E", "I")}
        Ab = {b: A[sl_sig[sig[b]]] for b in ("E", "I")}
        for b in ("E", "I"):
            nj, Aj = cnt[b], Ab[b]
            shared = w[b] ** 2 * float(np.sum(nj * (nj - 1) * Aj)) / npairs
            diag = _diag_cov_sum(U[b], U[b])
            corr = (w[b] ** 2 * (_cov(Wt[b], Wt[b]) - float(np.sum(nj ** 2 * Aj)))
                    - (diag - w[b] ** 2 * float(np.sum(nj * Aj)))) / npairs
            measured = _pairwise_mean(U[b], U[b])
            s_b = sig[b]
            Abar = float(Aj.mean())
            Nb = pop_size[s_b]
            Cbar = (Nb ** 2 * _cov(pop_series[s_b], pop_series[s_b]) - float(Aj.sum())) / (
                Nb * (Nb - 1))
            out.update({f"{a}.{b}.shared": shared, f"{a}.{b}.corr": corr,
                        f"{a}.{b}.measured": measured,
                        f"{a}.{b}.residual": shared + corr - measured,
                        f"{a}.{b}.shared_mf": w[b] ** 2 * K[b] ** 2 / Nb * Abar,
                        f"{a}.{b}.corr_mf": w[b] ** 2 * K[b] ** 2 * Cbar,
                        f"{a}.{b}.fraction": -corr / shared if shared > 0 else math.nan,
                        f"{a}.{b}.var": diag / n})
        # cross block, as its contribution to the total (both orders of the pair)
        diag = _diag_cov_sum(U["E"], U["I"])
        corr = 2 * (w["E"] * w["I"] * _cov(Wt["E"], Wt["I"]) - diag) / npairs
        measured = 2 * _pairwise_mean(U["E"], U["I"])
        Cbar = _cov(pop_series[sig["E"]], pop_series[sig["I"]])
        out.update({f"{a}.cross.shared": 0.0, f"{a}.cross.corr": corr,
                    f"{a}.cross.measured": measured, f"{a}.cross.residual": corr - measured,
                    f"{a}.cross.shared_mf": 0.0,
                    f"{a}.cross.corr_mf": 2 * w["E"] * w["I"] * K["E"] * K["I"] * Cbar,
                    f"{a}.cross.fraction": math.nan, f"{a}.cross.var": 2 * diag / n})
        # totals: the pairwise covariance of the whole synaptic input
        total = U["E"] + U["I"]
        shared_tot = out[f"{a}.E.shared"] + out[f"{a}.I.shared"]
        measured_tot = _pairwise_mean(total, total)
        var_tot = _diag_cov_sum(total, total) / n
        out.update({f"{a}.total.shared": shared_tot,
                    f"{a}.total.corr": sum(out[f"{a}.{b}.corr"] for b in BLOCK_NAMES),
                    f"{a}.total.measured": measured_tot,
                    f"{a}.total.residual": sum(out[f"{a}.{b}.residual"] for b in BLOCK_NAMES),
                    f"{a}.total.shared_mf": out[f"{a}.E.shared_mf"] + out[f"{a}.I.shared_mf"],
                    f"{a}.total.corr_mf": sum(out[f"{a}.{b}.corr_mf"] for b in BLOCK_NAMES),
                    f"{a}.total.fraction": 1.0 - measured_tot / shared_tot
                    if shared_tot > 0 else math.nan,
                    f"{a}.total.var": var_tot,
                    f"{a}.total.corrcoef": measured_tot / var_tot if var_tot > 0 else math.nan})
    return out


def surrogate_pair_means(U: np.ndarray, V: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Mean over ordered pairs i != k of Cov(U_i, V_k) after rolling column i of both
    U and V by offsets[s, i], for every surrogate s (O(n_t n) each: only the sums over
    targets change; the within-target covariances are invariant under the roll)."""
    n_t, n = U.shape
    Uc, Vc = U - U.mean(axis=0), V - V.mean(axis=0)
    diag = _diag_cov_sum(U, V)
    t = np.arange(n_t)[:, None]
    cols = np.arange(n)[None, :]
    out = np.empty(offsets.shape[0])
    for s, off in enumerate(offsets):
        rows = (t + off[None, :]) % n_t
        su, sv = Uc[rows, cols].sum(axis=1), Vc[rows, cols].sum(axis=1)
        out[s] = (float(np.dot(su - su.mean(), sv - sv.mean())) / (n_t - 1) - diag) / (n * (n - 1))
    return out


def surrogate_offsets(n_surrogates: int, n_t: int, n: int, seed: int) -> np.ndarray:
    """Independent circular shifts (1 .. n_t - 1 samples) per surrogate and target."""
    r = seeded_rng(seed, "surrogates")
    return r.integers(1, n_t, size=(n_surrogates, n))


def noise_floors(rec: dict, n_surrogates: int, seed: int) -> dict:
    """Surrogate floor (sd) and surrogate mean of every measured block covariance."""
    out = {}
    nE = int(rec["n_E"])
    for a, cols in (("E", slice(0, nE)), ("I", slice(nE, None))):
        UE, UI = rec["E"][:, cols], rec["I"][:, cols]
        n_t, n = UE.shape
        if n < 2:
            continue
        off = surrogate_offsets(n_surrogates, n_t, n, seed + (0 if a == "E" else 1))
        vals = {"E": surrogate_pair_means(UE, UE, off), "I": surrogate_pair_means(UI, UI, off),
                "cross": 2 * surrogate_pair_means(UE, UI, off),
                "total": surrogate_pair_means(UE + UI, UE + UI, off)}
        for b, v in vals.items():
            out[f"{a}.{b}.floor"] = float(v.std(ddof=1))
            out[f"{a}.{b}.surrogate_mean"] = float(v.mean())
    return out


def analyse_recording(rec: dict, params: ModelParams, n_surrogates: int, seed: int,
                      floor_factor: float) -> dict:
    """Decomposition, floors and resolved flags (|value| >= floor_factor x floor) of one
    recording; the shared and correlation terms use their block's floor."""
    out = decompose(rec, params)
    out.update(noise_floors(rec, n_surrogates, seed))
    for a in ("E", "I"):
        for b in BLOCK_NAMES + ("total",):
            fl = out.get(f"{a}.{b}.floor", math.nan)
            for term in ("shared", "corr", "measured"):
                v = out.get(f"{a}.{b}.{term}", math.nan)
                out[f"{a}.{b}.{term}_resolved"] = bool(abs(v) >= floor_factor * fl)
    return out


# ---- across realizations and N ------------------------------------------------------
#: (term, model drawn in the figure): saturating O(1) terms get a + b N^-1/2, the sums
#: (what is left after cancellation) a power law where their sign allows one
TERMS = ("shared", "corr", "measured", "fraction", "var", "corrcoef")
SATURATING = ("shared", "corr", "fraction", "var")


def _floor_col(term: str, block: str, target: str) -> str | None:
    if term in ("shared", "corr", "measured", "fraction"):
        return f"{target}.{block}.floor"
    return None


def per_N_terms(table, floor_factor: float):
    """Per (J0, target, block, term, N): realizations, mean, standard error across seeds,
    the floor of the mean (sqrt(sum floor^2)/n for independent recordings) and whether the
    mean is resolved (|mean| >= floor_factor x floor; terms without a floor always are)."""
    import pandas as pd

    rows = []
    for (J0, N), g in table.groupby(["J0", "N"]):
        for a in ("E", "I"):
            for b in BLOCK_NAMES + ("total",):
                for term in TERMS:
                    col = f"{a}.{b}.{term}"
                    # the cross block has no shared input (a structural 0, not a measurement)
                    if (col not in g or (term == "corrcoef" and b != "total")
                            or (b == "cross" and term in ("shared", "fraction"))):
                        continue
                    v = g[col].to_numpy(float)
                    ok = np.isfinite(v)
                    if not ok.any():
                        continue
                    v = v[ok]
                    s = sample_mean(v)
                    n = s["n"]
                    fc = _floor_col(term, b, a)
                    if fc is not None and fc in g:
                        fl = g[fc].to_numpy(float)[ok]
                        if term == "fraction":
                            fl = fl / g[f"{a}.{b}.shared"].to_numpy(float)[ok]
                        floor = float(np.sqrt(np.sum(fl ** 2)) / n)
                    else:
                        floor = 0.0
                    mean = s["mean"]
                    rows.append({"J0": J0, "target": a, "block": b, "term": term, "N": int(N),
                                 "n": n, "mean": mean, "se": s["se"], "floor": floor,
                                 "resolved": bool(abs(mean) >= floor_factor * floor)})
    per = pd.DataFrame(rows)
    if per.empty:
        return per
    parts = [fill_single_realization_se(g, within=g.floor) for _, g in
             per.groupby(["J0", "target", "block", "term"], sort=False)]
    return pd.concat(parts).sort_index()


def fit_terms(per):
    """Both models for every (J0, target, block, term) over its resolved sizes, weighted
    by the standard errors of per_N_terms (across seeds; pooled for one realization)
    with the floor of the mean added in quadrature."""
    import pandas as pd

    fits = []
    if per.empty:
        return pd.DataFrame()
    for key, g in per.groupby(["J0", "target", "block", "term"]):
        use = g[g.resolved]
        left_out = sorted(int(N) for N in g.N[~g.resolved])
        se = np.sqrt(use.se.to_numpy(float) ** 2 + use.floor.to_numpy(float) ** 2)
        for fit in (fit_power_law(use.N, use["mean"], se), fit_offset_power(use.N, use["mean"], se)):
            fits.append({"J0": key[0], "target": key[1], "block": key[2], "term": key[3], **fit,
                         "N_left_out": " ".join(map(str, left_out)),
                         "drawn": (fit["model"] != "A x^beta") == (key[3] in SATURATING)})
    return pd.DataFrame(fits)
