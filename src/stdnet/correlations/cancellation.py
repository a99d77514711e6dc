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

Sampling errors (within one run): batch means (`batch_errors`). Every term is the time
average of a per-sample series whose mean over the recording is the term: the measured
covariances and variances of (U_i(t) - <U_i>)(V_k(t) - <V_k>) summed over pairs, the
shared-input term of w^2 sum_j n_j (n_j - 1) (r_j(t) - <r_j>)^2 (known per segment of
stdnet.correlations.recording.SEGMENT_TAU from the recorded segment sums), the correlation term as
their difference (the identity holds sample by sample). The recording is cut into B
contiguous batches of whole segments, each batch at least K_BATCH x the largest
integrated autocorrelation time of these series and at least 1/MAX_BATCHES of the
recording (the rule of stats.intervals.batch_means_ci); the standard error of a term is
sd(batch means)/sqrt(B), of a ratio (fraction cancelled, correlation coefficient) the
same of its linearisation. Where the rule leaves fewer than MIN_BATCHES batches (a recording
shorter than ~50 tau_int), the recording is cut into MIN_BATCHES shorter batches instead and
the error is flagged (`se_ok` False): biased low, reported, never fitted.

Noise floors (detection limits): circular-shift surrogates. Each target's pair (u^E_i, u^I_i) is rolled by
its own random offset, which keeps every series and the within-target E-I covariance and
destroys the covariance between targets; the floor of a mean pairwise covariance is the
standard deviation of its surrogate values. The shared-input and correlation terms of a
block share the floor of its measured covariance (the surrogate leaves the variances A_j
unchanged, so it moves only the part that the pairs contribute). The floor is a detection
limit -- how large the covariance of independent targets would come out by chance, i.e.
whether a term is distinguishable from independence -- not the sampling error of the
term: two 400 tau windows of one run differ by 10 - 600 x the floor (docs/correlations.md).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from stdnet.correlations.recording import BLOCK_SIGNAL, BLOCKS
from stdnet.model.params import ModelParams
from stdnet.model.seeding import rng as seeded_rng
from stdnet.stats import (
    K_BATCH,
    MAX_BATCHES,
    MIN_BATCHES,
    fit_offset_power,
    fit_power_law,
    integrated_autocorrelation_time,
    sample_mean,
)

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
    """Decomposition, within-run batch-means errors (`batch_errors`), detection limits
    (surrogate floors) and detected flags (|value| >= floor_factor x floor) of one
    recording; the shared and correlation terms use their block's floor."""
    out = decompose(rec, params)
    out.update(batch_errors(rec, params))
    out.update(noise_floors(rec, n_surrogates, seed))
    for a in ("E", "I"):
        for b in BLOCK_NAMES + ("total",):
            fl = out.get(f"{a}.{b}.floor", math.nan)
            for term in ("shared", "corr", "measured"):
                v = out.get(f"{a}.{b}.{term}", math.nan)
                out[f"{a}.{b}.{term}_detected"] = bool(abs(v) >= floor_factor * fl)
    return out


# ---- sampling errors within one run: batch means ----------------------------------------
def _pair_series(U: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample series whose time means are the mean over ordered pairs i != k of
    Cov(U_i, V_k) and the mean of Cov(U_i, V_i) (ddof 1, like _pairwise_mean)."""
    n_t, n = U.shape
    Uc, Vc = U - U.mean(axis=0), V - V.mean(axis=0)
    d = np.sum(Uc * Vc, axis=1)
    bessel = n_t / (n_t - 1)
    pair = (Uc.sum(axis=1) * Vc.sum(axis=1) - d) / (n * (n - 1)) * bessel
    return pair, d / n * bessel


def shared_segments(rec: dict, params: ModelParams, target: str, block: str) -> np.ndarray:
    """The shared-input term of `target` targets from `block` per recorded segment
    (stdnet.correlations.recording.SEGMENT_TAU): w^2 sum_j n_j (n_j - 1) <(r_j - <r_j>)^2>_segment
    / (n (n - 1)), with <r_j> the mean over the whole recording; the mean over the
    segments is the term of `decompose` (exactly when the segments tile the recording)."""
    nE = int(rec["n_E"])
    n = nE if target == "E" else int(rec["index"].size) - nE
    n_t = int(rec["time"].size)
    L = int(rec["seg_length"])
    sl = signal_slices(params)[BLOCK_SIGNAL[(target, block)]]
    nj = rec["counts"][BLOCKS.index((target, block))][sl]
    c = nj * (nj - 1)
    m = rec["presyn_mean"][sl] - rec["presyn_shift"][sl]
    s1, s2 = rec["presyn_seg1"][:, sl], rec["presyn_seg2"][:, sl]
    sq = (s2 @ c - 2.0 * (s1 @ (c * m)) + L * float(np.sum(c * m * m))) / L
    w = block_weights(params, target)[block]
    return w ** 2 * sq / (n * (n - 1)) * n_t / (n_t - 1)


def batch_plan(tau_int: float, n_t: int, seg_length: int, k: float = K_BATCH,
               max_batches: int = MAX_BATCHES) -> tuple[int, int]:
    """(segments per batch, number of batches B) for a recording of n_t samples in
    segments of seg_length samples: the rule of stats.intervals.batch_means_ci,
    b = max(ceil(k max(tau_int, 1)), ceil(n / max_batches)) samples, rounded up to whole
    segments; B = n_seg // (segments per batch) (0 if tau_int is not finite)."""
    n_seg = n_t // seg_length
    if not math.isfinite(tau_int) or n_seg == 0:
        return 0, 0
    b = max(math.ceil(k * max(tau_int, 1.0)), math.ceil(n_seg * seg_length / max_batches))
    q = math.ceil(b / seg_length)
    return q, n_seg // q


def _batch_se(x: np.ndarray) -> float:
    """sd(batch means)/sqrt(B); NaN with fewer than 2 batches."""
    return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size >= 2 else math.nan


def batch_errors(rec: dict, params: ModelParams, k: float = K_BATCH,
                 min_batches: int = MIN_BATCHES, max_batches: int = MAX_BATCHES) -> dict:
    """Within-run standard errors (batch means, module doc) of every term of `decompose`:
    `<a>.<b>.<term>_se`, and per target population the plan: `<a>.tau_int` (the largest
    integrated autocorrelation time of the term series, in tau), `<a>.batch_rule_tau` (the
    rule's batch length, tau), `<a>.batch_tau` (the batch length used, tau), `<a>.n_batches`
    and `<a>.se_ok` (the rule leaves >= min_batches batches). A recording too short for the
    rule is cut into min_batches shorter batches instead (se_ok False: an se biased low,
    reported but never fitted). Needs the
    segment sums of stdnet.correlations.recording.record_inputs (recordings made before them give
    an empty dict)."""
    if "presyn_seg1" not in rec:
        return {}
    out: dict = {}
    nE = int(rec["n_E"])
    n_t = int(rec["time"].size)
    dt = float(rec["time"][1] - rec["time"][0]) if n_t > 1 else math.nan
    L = int(rec["seg_length"])
    n_seg = n_t // L
    for a, cols in (("E", slice(0, nE)), ("I", slice(nE, None))):
        UE, UI = rec["E"][:, cols], rec["I"][:, cols]
        n = UE.shape[1]
        if n < 2 or n_seg < 1:
            continue
        pair, var = {}, {}
        pair["E"], var["E"] = _pair_series(UE, UE)
        pair["I"], var["I"] = _pair_series(UI, UI)
        pc, vc = _pair_series(UE, UI)
        pair["cross"], var["cross"] = 2 * pc, 2 * vc
        pair["total"], var["total"] = _pair_series(UE + UI, UE + UI)
        shared = {b: shared_segments(rec, params, a, b) for b in ("E", "I")}
        shared["total"] = shared["E"] + shared["I"]
        # one batch length for all terms of the target (the ratios need common batches):
        # from the slowest series, per-sample ones in samples, per-segment ones x L
        taus = [integrated_autocorrelation_time(x).tau_int for x in (*pair.values(), *var.values())]
        taus += [L * integrated_autocorrelation_time(x).tau_int for x in shared.values()
                 if x.size >= 2]
        taus = [t for t in taus if math.isfinite(t)]
        tau = max(taus) if taus else math.nan
        q, B = batch_plan(tau, n_t, L, k, max_batches)
        ok = B >= min_batches
        out[f"{a}.batch_rule_tau"] = q * L * dt
        if not ok and n_seg >= min_batches:
            # too short for the rule: min_batches shorter batches, flagged (se biased low,
            # by ~tau_int/(2b) of the variance for exponential correlations)
            q = n_seg // min_batches
            B = n_seg // q
        out.update({f"{a}.tau_int": tau * dt, f"{a}.batch_tau": q * L * dt,
                    f"{a}.n_batches": B, f"{a}.se_ok": bool(ok)})
        if B < 1:
            continue
        s0 = (n_seg - B * q)  # the remainder is left out at the start (nearest the transient)

        def bm_samples(x):
            return x[s0 * L: n_seg * L].reshape(B, q * L).mean(axis=1)

        def bm_segments(x):
            return x[s0:n_seg].reshape(B, q).mean(axis=1)

        mb = {b: bm_samples(x) for b, x in pair.items()}
        vb = {b: bm_samples(x) for b, x in var.items()}
        sb = {b: bm_segments(x) for b, x in shared.items()}
        for b in ("E", "I", "total"):
            S, M = float(np.mean(shared[b][s0:n_seg])), float(np.mean(pair[b][s0 * L: n_seg * L]))
            out[f"{a}.{b}.shared_se"] = _batch_se(sb[b])
            out[f"{a}.{b}.corr_se"] = _batch_se(mb[b] - sb[b])
            # fraction = 1 - M/S: linearised ratio, (m_k - (M/S) s_k) / S per batch
            out[f"{a}.{b}.fraction_se"] = (_batch_se((mb[b] - M / S * sb[b]) / S)
                                           if S > 0 else math.nan)
        out[f"{a}.cross.corr_se"] = _batch_se(mb["cross"])
        for b in ("E", "I", "cross", "total"):
            out[f"{a}.{b}.measured_se"] = _batch_se(mb[b])
            out[f"{a}.{b}.var_se"] = _batch_se(vb[b])
        M = float(np.mean(pair["total"][s0 * L: n_seg * L]))
        V = float(np.mean(var["total"][s0 * L: n_seg * L]))
        out[f"{a}.total.corrcoef_se"] = (_batch_se((mb["total"] - M / V * vb["total"]) / V)
                                         if V > 0 else math.nan)
    return out


# ---- across realizations and N ------------------------------------------------------
#: (term, model drawn in the figure): saturating O(1) terms get a + b N^-1/2, the sums
#: (what is left after cancellation) a power law where their sign allows one
TERMS = ("shared", "corr", "measured", "fraction", "var", "corrcoef")
SATURATING = ("shared", "corr", "fraction", "var")
#: se_source of a per-N value: across realizations, one run's batch means (enough
#: batches), one run's batch means with fewer than MIN_BATCHES batches, none
SE_SOURCES = ("realizations", "within-run", "within-run (few batches)", "none")


def _floor_col(term: str, block: str, target: str) -> str | None:
    if term in ("shared", "corr", "measured", "fraction"):
        return f"{target}.{block}.floor"
    return None


def per_N_terms(table, floor_factor: float):
    """Per (J0, target, block, term, N): realizations n, mean and its standard error.

    se_realizations: sd across realizations / sqrt(n) (n >= 2; it contains the
    within-run sampling error and the network-to-network spread); se_within: the
    batch-means error of the mean, sqrt(sum se_i^2) / n (`batch_errors`). se, the error
    bar used everywhere: se_realizations where n >= 2, else se_within (se_source says
    which, SE_SOURCES). single: one realization only (its se misses the
    network-to-network spread). detect_limit: the surrogate floor of the mean,
    sqrt(sum floor^2) / n for independent recordings -- a detection limit, not an error;
    detected: |mean| >= floor_factor x detect_limit (terms without a floor always are; for
    a fraction 1 - measured/shared, |1 - mean|: the measured covariance is detected).
    n_batches: the fewest batches of the realizations."""
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
                        limit = float(np.sqrt(np.sum(fl ** 2)) / n)
                    else:
                        limit = 0.0
                    sec = f"{col}_se"
                    w = g[sec].to_numpy(float)[ok] if sec in g else np.full(n, math.nan)
                    se_within = float(np.sqrt(np.sum(w ** 2)) / n)
                    nb = (g[f"{a}.n_batches"].to_numpy(float)[ok] if f"{a}.n_batches" in g
                          else np.zeros(n))
                    few = bool(np.any(~(nb >= MIN_BATCHES)))
                    if n >= 2:
                        se, src = s["se"], "realizations"
                    elif math.isfinite(se_within):
                        se, src = se_within, SE_SOURCES[2] if few else SE_SOURCES[1]
                    else:
                        se, src = math.nan, "none"
                    mean = s["mean"]
                    # a fraction 1 - measured/shared is distinguishable from independent
                    # targets where the measured covariance is, i.e. |1 - fraction| large
                    dist = abs(1.0 - mean) if term == "fraction" else abs(mean)
                    rows.append({"J0": J0, "target": a, "block": b, "term": term, "N": int(N),
                                 "n": n, "single": n == 1, "mean": mean, "se": se,
                                 "se_source": src, "se_realizations": s["se"],
                                 "se_within": se_within,
                                 "n_batches": int(np.nanmin(nb)) if np.isfinite(nb).any() else 0,
                                 "detect_limit": limit,
                                 "detected": bool(dist >= floor_factor * limit)})
    return pd.DataFrame(rows)


def fit_points(g, use_single: bool = False):
    """The rows of one (J0, target, block, term) that enter its fits in N, and the left-out
    sizes with the reason: sizes with n >= 2 realizations (error: their spread); sizes
    with one realization only if use_single and their within-run error rests on
    >= MIN_BATCHES batches (it then misses the network-to-network spread: the fit is
    optimistic there); never a size without a finite error. The detection limit does
    not select points: a value below it is still a measurement with a sampling error."""
    ok = np.isfinite(g.se.to_numpy(float)) & (g.se.to_numpy(float) > 0)
    multi = (g.n >= 2).to_numpy()
    single_ok = (g.se_source == SE_SOURCES[1]).to_numpy() if use_single else np.zeros(len(g), bool)
    use = ok & (multi | single_ok)
    left = []
    for (_, r), u in zip(g.iterrows(), use):
        if not u:
            why = ("one realization" if r.n == 1 and r.se_source != SE_SOURCES[2] else
                   "one realization, few batches" if r.n == 1 else "no error")
            left.append(f"{int(r.N)} ({why})")
    return g[use], left


def fit_terms(per, use_single: bool = False):
    """Both models (power law, a + b N^-1/2) for every (J0, target, block, term) over the
    points of `fit_points`, weighted by their sampling errors (se of per_N_terms; the
    detection limits are not errors and do not enter)."""
    fits = []
    if per.empty:
        return pd.DataFrame()
    for key, g in per.groupby(["J0", "target", "block", "term"]):
        use, left = fit_points(g.sort_values("N"), use_single)
        below = sorted(int(N) for N in use.N[~use.detected])
        for fit in (fit_power_law(use.N, use["mean"], use.se),
                    fit_offset_power(use.N, use["mean"], use.se)):
            fits.append({"J0": key[0], "target": key[1], "block": key[2], "term": key[3], **fit,
                         "N_left_out": "; ".join(left),
                         "N_below_detection": " ".join(map(str, below)),
                         "single_used": bool(use_single and (use.n == 1).any()),
                         "drawn": (fit["model"] != "A x^beta") == (key[3] in SATURATING)})
    return pd.DataFrame(fits)
