"""Sampling errors of the correlation terms (issue 27, part 4): batch means within a run,
the per-N combination across realizations, single-realization marking, and which sizes the
fits in N use. The synthetic recordings have the layout of stdnet.correlations.recording.record_inputs
with presynaptic signals r_j(t) = a c(t) + b xi_j(t) (c, xi_j: unit-variance AR(1) with
coefficient phi, started in their stationary law, so there is no transient) and target
inputs u^b_i = w_ab sum_{j in P^b_i} r_j exactly as in the network."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from stdnet.correlations.cancellation import (SE_SOURCES, batch_errors, batch_plan, decompose, fit_points,
                                 fit_terms, per_N_terms, shared_segments, signal_slices,
                                 block_weights)
from stdnet.correlations.recording import BLOCK_SIGNAL, BLOCKS
from stdnet.model.params import ModelParams

P = ModelParams(N=50, J0=1.5)  # N_E = 40, N_I = 10; only sizes and weights are used
N_TARGETS = 12   # per population
K_PRE = {"E": 8, "I": 4}


def _ar1(rng, n_t, m, phi):
    """(n_t, m) unit-variance AR(1), stationary from the first sample."""
    e = rng.standard_normal((n_t, m))
    e[0] /= math.sqrt(1 - phi ** 2)
    return lfilter([math.sqrt(1 - phi ** 2)], [1.0, -phi], e, axis=0)


def _connectivity(seed):
    r = np.random.default_rng(seed)
    return {(a, b): np.array([r.choice(P.N_E if b == "E" else P.N_I, K_PRE[b], replace=False)
                              for _ in range(N_TARGETS)])
            for a in ("E", "I") for b in ("E", "I")}


def synthetic_recording(rng, pre, n_t=3000, phi=0.9, a=0.6, b=1.0, seg_length=10):
    """A recording dict (the fields batch_errors and decompose read) of 2 N_E + N_I
    presynaptic signals sharing the common AR(1) c(t) with weight a."""
    sl = signal_slices(P)
    n_sig = 2 * P.N_E + P.N_I
    c = _ar1(rng, n_t, 1, phi)
    r = 1.0 + a * c + b * _ar1(rng, n_t, n_sig, phi)
    counts = np.zeros((4, n_sig))
    U = {"E": np.zeros((n_t, 2 * N_TARGETS)), "I": np.zeros((n_t, 2 * N_TARGETS))}
    for k, (tgt, blk) in enumerate(BLOCKS):
        s = sl[BLOCK_SIGNAL[(tgt, blk)]]
        idx = pre[(tgt, blk)]
        counts[k, s] = np.bincount(idx.ravel(), minlength=s.stop - s.start)
        w = block_weights(P, tgt)[blk]
        cols = slice(0, N_TARGETS) if tgt == "E" else slice(N_TARGETS, None)
        U[blk][:, cols] = w * r[:, s][:, idx].sum(axis=2)
    n_seg = n_t // seg_length
    shift = r[0].copy()
    d = r - shift
    seg = d[: n_seg * seg_length].reshape(n_seg, seg_length, n_sig)
    W = np.column_stack([r @ counts[k] for k in range(4)])
    return {"time": 0.5 * np.arange(1, n_t + 1), "index": np.arange(2 * N_TARGETS),
            "n_E": np.int64(N_TARGETS), "E": U["E"], "I": U["I"], "W": W, "counts": counts,
            "pop_xnu_E": r[:, sl["xnu_E"]].mean(axis=1), "pop_nu_E": r[:, sl["nu_E"]].mean(axis=1),
            "pop_nu_I": r[:, sl["nu_I"]].mean(axis=1), "presyn_mean": r.mean(axis=0),
            "presyn_var": r.var(axis=0, ddof=1), "presyn_shift": shift,
            "presyn_seg1": seg.sum(axis=1), "presyn_seg2": (seg ** 2).sum(axis=1),
            "seg_length": np.int64(seg_length)}


def test_segment_sums_give_the_terms_of_the_decomposition():
    """The per-segment shared term averages to decompose's shared term when the segments
    tile the recording, and the synthetic recording satisfies the identity."""
    rec = synthetic_recording(np.random.default_rng(1), _connectivity(1), n_t=600)
    d = decompose(rec, P)
    for tgt in ("E", "I"):
        for blk in ("E", "I"):
            assert shared_segments(rec, P, tgt, blk).mean() == pytest.approx(
                d[f"{tgt}.{blk}.shared"], rel=1e-10)
            assert abs(d[f"{tgt}.{blk}.residual"]) < 1e-9 * abs(d[f"{tgt}.{blk}.shared"])


def test_batch_plan_follows_the_rule_and_reports_too_few_batches():
    # b = max(10 tau, n/30) = 190 samples -> 19 segments of 10 -> 3000 // 190 = 15 batches
    assert batch_plan(19.0, 3000, 10) == (19, 15)
    # fast decorrelation: n / 30 = 100 samples sets the length
    assert batch_plan(2.0, 3000, 10) == (10, 30)
    # rounding up to whole segments: 10 x 7.3 = 73 -> 100 samples with 50-sample segments
    assert batch_plan(7.3, 1000, 50) == (2, 10)
    # 800 samples, tau_int 40: batches of 400, two of them (< MIN_BATCHES = 5)
    assert batch_plan(40.0, 800, 10) == (40, 2)
    assert batch_plan(math.nan, 800, 10) == (0, 0)


def test_batch_means_error_recovers_the_spread_over_independent_runs():
    """150 independent synthetic runs of n_t = 3000 samples, AR(1) phi = 0.9 (tau_int = 19
    samples, batches of 190, 15 batches). The sd of each term over the runs is its true
    sampling error (known to ~6 %); the rms batch-means error must match it within 20 %
    (batch means underestimate by ~tau_int/(2b) = 5 %; 15 batches give each error a
    relative sd of ~18 %, ~1.5 % for the rms over 150 runs; measured 0.89 - 1.07), and
    |value - mean over runs| < t_{0.975, 14} = 2.14 x its own error in 87 - 99 % of runs
    (nominal 95 %; binomial sd 1.8 % over 150 runs; measured 90 - 93 %: the ~4 % low
    batch-means error costs ~1 %)."""
    rng = np.random.default_rng(20261205)
    pre = _connectivity(2)
    keys = ["I.I.shared", "I.I.corr", "I.I.measured", "I.I.fraction", "E.E.corr",
            "I.cross.measured", "I.total.measured", "I.total.fraction"]
    vals, ses, plans = [], [], []
    for _ in range(150):
        rec = synthetic_recording(rng, pre)
        d, e = decompose(rec, P), batch_errors(rec, P)
        vals.append([d[k] for k in keys])
        ses.append([e[f"{k}_se"] for k in keys])
        plans.append((e["I.n_batches"], e["I.se_ok"], e["I.batch_tau"]))
    vals, ses = np.array(vals), np.array(ses)
    true_sd = vals.std(axis=0, ddof=1)
    rms = np.sqrt(np.mean(ses ** 2, axis=0))
    ratio = rms / true_sd
    assert np.all((ratio > 0.8) & (ratio < 1.2)), dict(zip(keys, ratio.round(3)))
    z = np.abs(vals - vals.mean(axis=0)) / ses
    cover = np.mean(z < 2.14, axis=0)
    assert np.all((cover > 0.87) & (cover <= 0.99)), dict(zip(keys, cover.round(3)))
    # the largest tau_int of 10 series is itself noisy: 15 batches typically, never < 5
    n_batches = np.array([p[0] for p in plans])
    assert 12 <= np.median(n_batches) <= 20 and all(p[1] for p in plans)
    # the rule sized the batches from tau_int ~ 19 samples (of the slowest series)
    assert 60.0 <= np.median([p[2] for p in plans]) <= 150.0


def test_batch_errors_flag_a_recording_too_short_for_its_correlation_time():
    """phi = 0.98 (tau_int = 99 samples) over 800 samples: the rule's batches (10 tau_int,
    with tau_int underestimated on so short a series still > 160 samples) leave fewer than
    5; the recording is cut into 5 batches of 160 samples (80 tau) instead, flagged."""
    rec = synthetic_recording(np.random.default_rng(5), _connectivity(3), n_t=800, phi=0.98)
    e = batch_errors(rec, P)
    assert e["I.se_ok"] is False and e["I.n_batches"] == 5 and e["I.batch_tau"] == 80.0
    assert e["I.batch_rule_tau"] > 400.0 / 5  # the rule left fewer than 5 batches
    assert np.isfinite(e["I.I.corr_se"]) and e["I.I.corr_se"] > 0
    assert batch_errors({k: v for k, v in rec.items() if not k.startswith("presyn_seg")},
                        P) == {}


def _table(rows):
    """A recording table with the columns per_N_terms reads for I targets, I block."""
    out = []
    for N, seed, shared, corr, se, fl, nb in rows:
        out.append({"J0": 1.5, "N": N, "seed": seed, "I.I.shared": shared, "I.I.corr": corr,
                    "I.I.measured": shared + corr, "I.I.fraction": -corr / shared,
                    "I.I.shared_se": se, "I.I.corr_se": se, "I.I.measured_se": se,
                    "I.I.fraction_se": se / shared, "I.I.floor": fl, "I.n_batches": nb})
    return pd.DataFrame(out)


def test_per_N_combines_realizations_and_marks_single_ones():
    t = _table([(1000, 1, 1.0, -0.90, 0.01, 0.002, 15), (1000, 2, 1.0, -0.94, 0.01, 0.002, 15),
                (1000, 3, 1.0, -0.92, 0.01, 0.002, 15), (2000, 1, 1.0, -0.95, 0.02, 0.001, 8),
                (4000, 1, 1.0, -0.97, 0.03, 0.001, 3)])
    per = per_N_terms(t, 3.0)
    c = per[per.term == "corr"].set_index("N")
    # three realizations: se = sd across them / sqrt 3, not the within-run errors
    assert c.loc[1000, "se"] == pytest.approx(np.std([-0.90, -0.94, -0.92], ddof=1) / math.sqrt(3))
    assert c.loc[1000, "se_within"] == pytest.approx(math.sqrt(3 * 0.01 ** 2) / 3)
    assert c.loc[1000, "se_source"] == "realizations" and not c.loc[1000, "single"]
    # one realization: its within-run error, marked single
    assert c.loc[2000, "se"] == pytest.approx(0.02) and c.loc[2000, "single"]
    assert c.loc[2000, "se_source"] == SE_SOURCES[1]
    assert c.loc[4000, "se_source"] == SE_SOURCES[2]  # 3 batches < MIN_BATCHES
    # detection limit of the mean of independent recordings, and the detected flag
    m = per[per.term == "measured"].set_index("N")
    assert m.loc[1000, "detect_limit"] == pytest.approx(math.sqrt(3) * 0.002 / 3)
    assert m.loc[1000, "detected"] and m.loc[4000, "detected"]
    assert m.loc[4000, "mean"] == pytest.approx(0.03)
    f = per[per.term == "fraction"].set_index("N")
    assert f.loc[2000, "detect_limit"] == pytest.approx(0.001)


def test_fits_leave_out_single_realizations_unless_asked():
    """Three sizes with 3 realizations, one with one: the default fit uses 3 points and
    names the left-out size; use_single adds it only where its within-run error rests on
    enough batches."""
    rng = np.random.default_rng(9)
    rows = []
    for N in (1000, 2000, 4000):
        for s in (1, 2, 3):
            rows.append((N, s, 1.0, -(0.98 - 1.5 * N ** -0.5) + 0.005 * rng.standard_normal(),
                         0.004, 0.001, 12))
    per_ok = per_N_terms(_table(rows + [(8000, 1, 1.0, -0.95, 0.004, 0.001, 12)]), 3.0)
    per_few = per_N_terms(_table(rows + [(8000, 1, 1.0, -0.95, 0.004, 0.001, 2)]), 3.0)
    g = per_ok[(per_ok.term == "fraction")].sort_values("N")
    use, left = fit_points(g)
    assert sorted(use.N) == [1000, 2000, 4000] and left == ["8000 (one realization)"]
    use, left = fit_points(g, use_single=True)
    assert sorted(use.N) == [1000, 2000, 4000, 8000] and left == []
    g = per_few[(per_few.term == "fraction")].sort_values("N")
    use, left = fit_points(g, use_single=True)
    assert sorted(use.N) == [1000, 2000, 4000]
    assert left == ["8000 (one realization, few batches)"]
    fits = fit_terms(per_ok)
    off = fits[(fits.term == "fraction") & (fits.model != "A x^beta")].iloc[0]
    assert off.n_points == 3 and "8000" in off.N_left_out and not off.single_used
    fits1 = fit_terms(per_ok, use_single=True)
    off1 = fits1[(fits1.term == "fraction") & (fits1.model != "A x^beta")].iloc[0]
    assert off1.n_points == 4 and off1.single_used
    # the 8000 point (0.95, far below the fitted 0.98 - 1.5 N^-1/2 = 0.963) moves the fit
    assert off1.a < off.a
