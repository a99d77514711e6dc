"""Recording of the synaptic input of sampled neurons, block by block.

The simulation files keep only the filtered inputs h; the correlation analysis
(docs/correlations.md) is about the synaptic input itself, split by presynaptic block,

    eta_i(t) = Jc g_aE sum_{j in E} a_ij r^a_j  -  Jc g_aI sum_{j in I} a_ij nu_j
             =          u^E_i(t)               +           u^I_i(t),

with r^E_j = x_j nu_j (depressed E->E synapses) and r^I_j = nu_j (E->I). We continue a
run from its final state and, at every sample, gather u^E_i and u^I_i (<= 0) for a
random sample of target neurons (numba, the same index rows as the integrator), their h,
and, over ALL neurons, what the decomposition of stdnet.correlations.cancellation needs without an
O(N^2) covariance matrix: the population means of x nu_E, nu_E and nu_I, the sums
W_ab(t) = sum_j n^ab_j r_j(t) weighted by how many sampled targets of population a
receive input from j (n^ab_j), and each presynaptic neuron's first two moments, over the
whole recording and per contiguous segment of SEGMENT_TAU (the segment sums give the
shared-input term of every batch of segments: the batch-means errors of
stdnet.correlations.cancellation).
"""
from __future__ import annotations

import dataclasses
import logging

import h5py
import numpy as np
from numba import njit

from stdnet.files import io
from stdnet.files.progress import ProgressMeter
from stdnet.model.params import MAX_STEPS, ModelParams, RunParams
from stdnet.model.seeding import rng as seeded_rng
from stdnet.model.transfer import phi_scalar
from stdnet.simulation.simulate import Simulator
from stdnet.stats.gaussian_paths import ensemble_autocovariance

log = logging.getLogger("stdnet.correlations.recording")

#: (target population, presynaptic block) -> the signal it sees: x nu_E for E->E,
#: nu_E for E->I, nu_I from I
BLOCK_SIGNAL = {("E", "E"): "xnu_E", ("E", "I"): "nu_I", ("I", "E"): "nu_E", ("I", "I"): "nu_I"}
BLOCKS = tuple(BLOCK_SIGNAL)
#: length (tau) of the segments over which the presynaptic moments are also summed; batches
#: of the batch-means errors are whole segments. 5 tau is below the shortest batch the
#: rule of stdnet.correlations.cancellation.batch_plan allows at the sampling used (10 samples = 5 tau
#: at 0.5 tau), so it never lengthens a batch; 80 segments at 400 tau cost
#: 2 x 80 x (2 N_E + N_I) floats (9 MB at N = 4000).
SEGMENT_TAU = 5.0


@njit(cache=True)
def input_parts(y, idx, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II, nu, s,
                out_E, out_I):
    """E part (>= 0) and I part (<= 0) of the synaptic input of neurons `idx`.

    `nu` (N) and `s` (N_E) are scratch arrays; E rows see s_j = x_j nu_j from E
    neurons, I rows plain nu_j, exactly as kernels.cpu.vector_field.
    """
    N = pre_E.shape[0]
    for j in range(N):
        nu[j] = phi_scalar(code, y[j])
    for j in range(N_E):
        s[j] = y[N + j] * nu[j]
    for k in range(idx.shape[0]):
        i = idx[k]
        exc = 0.0
        inh = 0.0
        if i < N_E:
            for m in range(pre_E.shape[1]):
                exc += s[pre_E[i, m]]
            gE, gI = g_EE, g_EI
        else:
            for m in range(pre_E.shape[1]):
                exc += nu[pre_E[i, m]]
            gE, gI = g_IE, g_II
        for m in range(pre_I.shape[1]):
            inh += nu[N_E + pre_I[i, m]]
        out_E[k] = Jc * gE * exc
        out_I[k] = -Jc * gI * inh


@njit(cache=True)
def accumulate_presynaptic(nu, s, N_E, counts, shift, acc1, acc2, W_out, pop_out):
    """One sample of the all-neuron statistics (see the module doc).

    The signal vector is r = (x nu_E, nu_E, nu_I) laid end to end (2 N_E + N_I);
    counts (4, 2 N_E + N_I) holds n^ab_j for the blocks EE, EI, IE, II on that layout
    (zero outside the block's signal); acc1, acc2 collect sum (r - shift) and
    sum (r - shift)^2 per neuron (shift = the first sample, against cancellation).
    """
    N = nu.shape[0]
    N_I = N - N_E
    for b in range(4):
        W_out[b] = 0.0
    pop_out[0] = 0.0
    pop_out[1] = 0.0
    pop_out[2] = 0.0
    for j in range(2 * N_E + N_I):
        if j < N_E:
            r = s[j]
            pop_out[0] += r
        elif j < 2 * N_E:
            r = nu[j - N_E]
            pop_out[1] += r
        else:
            r = nu[j - N_E]
            pop_out[2] += r
        d = r - shift[j]
        acc1[j] += d
        acc2[j] += d * d
        for b in range(4):
            W_out[b] += counts[b, j] * r
    pop_out[0] /= N_E
    pop_out[1] /= N_E
    pop_out[2] /= N_I


def presynaptic_counts(net, params: ModelParams, idx_E, idx_I) -> np.ndarray:
    """n^ab_j: how many sampled targets of population a receive input from neuron j of
    block b, on the signal layout of `accumulate_presynaptic` (blocks EE, EI, IE, II)."""
    N_E, N_I = params.N_E, params.N_I
    counts = np.zeros((4, 2 * N_E + N_I))
    offsets = {"xnu_E": 0, "nu_E": N_E, "nu_I": 2 * N_E}
    for b, (a, blk) in enumerate(BLOCKS):
        rows = idx_E if a == "E" else idx_I
        pre = net.pre_E if blk == "E" else net.pre_I
        size = N_E if blk == "E" else N_I
        n = np.bincount(pre[rows].ravel().astype(np.int64), minlength=size)
        off = offsets[BLOCK_SIGNAL[(a, blk)]]
        counts[b, off: off + size] = n
    return counts


def sample_neurons(params: ModelParams, n_sample: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random sample of E and I neuron indices (global), sorted."""
    r = seeded_rng(seed, "dmf")
    nE = min(n_sample, params.N_E)
    nI = min(n_sample, params.N_I)
    idx_E = np.sort(r.choice(params.N_E, nE, replace=False))
    idx_I = params.N_E + np.sort(r.choice(params.N_I, nI, replace=False))
    return idx_E, idx_I


def segment_length(sample_interval: float, n_t: int, segment_tau: float = SEGMENT_TAU) -> int:
    """Samples per segment of the presynaptic moments: round(segment_tau / sample_interval),
    at least 1, at most n_t."""
    return int(min(max(1, round(segment_tau / sample_interval)), n_t))


#: what the continuation's RunParams call the settings of config section `correlations`
_RUN_KEYS = {"t_record": "correlations.t_measure", "dt": "correlations.t_measure",
             "record_interval": "correlations.sample_interval"}


def recording_run(run: RunParams, t_measure: float, sample_interval: float) -> RunParams:
    """The RunParams of a continuation of t_measure sampled every sample_interval, with the
    integrator of `run` (the simulation's). ValueError naming the correlations key where
    it cannot run: not a whole number of steps of simulation.dt per sample, or fewer than
    4 samples. The check of record_inputs, which the config check makes too."""
    if not t_measure > 0:
        raise ValueError(f"correlations.t_measure: invalid value {t_measure!r}; allowed: a "
                         "number > 0")
    try:
        run = dataclasses.replace(run, t_transient=0.0, t_record=float(t_measure),
                                  record_interval=float(sample_interval), n_record=0,
                                  perturbation=0.0, checkpoint_interval=0.0)
    except ValueError as e:  # "record_interval: invalid value ..." of RunParams
        key, _, why = str(e).partition(": ")
        why = why.replace("record_interval (", "correlations.sample_interval (").replace(
            " dt (", " simulation.dt (")
        if key == "dt":  # the step bound: too many steps of simulation.dt
            why = (f"invalid value {t_measure!r}; allowed: at most {MAX_STEPS:.0e} steps of "
                   f"simulation.dt ({run.dt})")
        raise ValueError(f"{_RUN_KEYS.get(key, 'correlations')}: {why}") from None
    if run.n_samples < 4:
        raise ValueError(f"correlations.t_measure: value {t_measure!r} gives {run.n_samples} "
                         "samples; allowed: at least 4 samples (t_measure >= 4 "
                         "sample_interval)")
    return run


def record_inputs(params: ModelParams, y0, seed: int, run: RunParams, *,
                  t_measure: float, sample_interval: float, n_sample: int,
                  progress_every_s: float = 10.0, keep_signals: bool = False,
                  segment_tau: float = SEGMENT_TAU) -> dict:
    """Continue from y0 for t_measure (stdnet.simulation.simulate.Simulator with the integrator of
    `run`, the simulation's RunParams) and record, per sample, the sampled
    neurons' block inputs u^E, u^I and h, and the all-neuron statistics of the
    module doc (population means, weighted sums W, per-neuron moments).
    keep_signals: also return every neuron's signals per sample ("signals", n_t x
    (2 N_E + N_I), for checks at small N). segment_tau: the per-segment sums of the
    presynaptic moments ("presyn_seg1", "presyn_seg2": sum over the segment's samples of
    r - shift and (r - shift)^2, n_seg x (2 N_E + N_I); "presyn_shift"; "seg_length" samples
    per segment; a remainder of fewer samples at the end forms no segment)."""
    run = recording_run(run, t_measure, sample_interval)
    sim = Simulator(params, run, seed, y0=np.asarray(y0, dtype=float))
    net = sim.net
    # the cancellation decomposition takes one in-degree (docs/correlations.md)
    net.require_homogeneous("the correlations stage's input recording")
    spr = run.steps_per_record
    n_t = run.n_samples
    idx_E, idx_I = sample_neurons(params, n_sample, seed)
    idx = np.concatenate([idx_E, idx_I]).astype(np.int64)
    counts = presynaptic_counts(net, params, idx_E, idx_I)
    n_sig = counts.shape[1]
    acc1, acc2, shift = np.zeros(n_sig), np.zeros(n_sig), np.empty(n_sig)
    seg_len = segment_length(sample_interval, n_t, segment_tau)
    n_seg = n_t // seg_len
    seg1, seg2 = np.zeros((n_seg, n_sig)), np.zeros((n_seg, n_sig))
    last1, last2 = np.zeros(n_sig), np.zeros(n_sig)
    E = np.empty((n_t, idx.size))
    I = np.empty((n_t, idx.size))
    h = np.empty((n_t, idx.size))
    W = np.empty((n_t, 4))
    pop = np.empty((n_t, 3))  # population means of x nu_E, nu_E, nu_I
    pop_x = np.empty(n_t)
    signals = np.empty((n_t, n_sig)) if keep_signals else None
    nu = np.empty(params.N)
    s = np.empty(params.N_E)
    code = params.transfer_code
    # the first sample compiles the kernels (numba): the meter's rate counts from its end
    meter = ProgressMeter(log, n_t * spr, tau_per_unit=run.dt, every_s=progress_every_s)
    for k in range(n_t):
        sim.advance_to((k + 1) * spr, progress_every_s=1e9)
        y = sim.y  # every neuron's state (from the GPU with simulation.backend: cuda)
        input_parts(y, idx, net.pre_E, net.pre_I, params.N_E, code, params.coupling,
                    params.g_EE, params.g_EI, params.g_IE, params.g_II, nu, s, E[k], I[k])
        if k == 0:
            shift[:] = np.concatenate([s, nu])
        accumulate_presynaptic(nu, s, params.N_E, counts, shift, acc1, acc2, W[k], pop[k])
        if (k + 1) % seg_len == 0 and (k + 1) // seg_len <= n_seg:
            m = (k + 1) // seg_len - 1
            seg1[m], seg2[m] = acc1 - last1, acc2 - last2
            last1[:], last2[:] = acc1, acc2
        if keep_signals:
            signals[k] = np.concatenate([s, nu])
        h[k] = y[idx]
        pop_x[k] = y[params.N:].mean()
        meter.update((k + 1) * spr)
    # per-neuron temporal mean and variance (ddof = 1) from the shifted sums
    mean = shift + acc1 / n_t
    var = np.maximum(acc2 - acc1 ** 2 / n_t, 0.0) / (n_t - 1)
    return {"time": np.arange(1, n_t + 1) * run.record_interval, "index": idx,
            "n_E": np.int64(idx_E.size), "E": E, "I": I, "h": h, "W": W, "counts": counts,
            "pop_xnu_E": pop[:, 0], "pop_nu_E": pop[:, 1], "pop_nu_I": pop[:, 2],
            "pop_x": pop_x, "presyn_mean": mean, "presyn_var": var,
            "presyn_shift": shift.copy(), "presyn_seg1": seg1, "presyn_seg2": seg2,
            "seg_length": np.int64(seg_len),
            "final_y": sim.y.copy(), **({"signals": signals} if keep_signals else {})}


def autocovariance_lags(max_lag: float, dt_sample: float, n_samples: int) -> int:
    """Number of lags 0, dt, ... of an autocovariance up to max_lag, at most half the
    samples (beyond that too few pairs enter the average)."""
    return min(int(round(max_lag / dt_sample)) + 1, n_samples // 2)


def input_autocovariance(h: np.ndarray, n_lags: int) -> tuple[np.ndarray, np.ndarray]:
    """(temporal, full) autocovariance of the inputs h (time x neurons), averaged
    over neurons: temporal about each neuron's own mean (decays to 0), full about
    the grand mean (keeps the static, quenched part, like the DMF's Delta)."""
    temporal = ensemble_autocovariance(h.T, n_lags, mean=h.mean(axis=0)[:, None])
    full = ensemble_autocovariance(h.T, n_lags, mean=h.mean())
    return temporal, full


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------
RECORDED = ("time", "index", "n_E", "E", "I", "h", "W", "pop_xnu_E", "pop_nu_E", "pop_nu_I",
            "pop_x", "presyn_mean", "presyn_var", "presyn_shift", "presyn_seg1", "presyn_seg2",
            "seg_length")


def write_inputs(path, rec: dict, stats: dict, params: ModelParams, seed: int, settings: dict,
                 n_lags: int, dt_sample: float, wall_time_s: float,
                 groups: dict | None = None) -> None:
    """Recording, statistics, input autocovariances and further `groups` of datasets
    (e.g. spectra) of one run (HDF5, atomic)."""
    nE = int(rec["n_E"])
    with io.atomic_h5(path) as f:
        io.write_params(f, params, seed)
        io.write_attrs(f.create_group("settings"), settings)
        meta = io.provenance()
        meta["wall_time_s"] = float(wall_time_s)
        io.write_attrs(f.create_group("meta"), meta)
        io.write_attrs(f.create_group("stats"), stats)
        io.write_datasets(f.create_group("recording"),
                          {**{k: rec[k] for k in RECORDED},
                           "counts": rec["counts"].astype(np.int32)})
        for name, data in (groups or {}).items():
            io.write_datasets(f.create_group(name), data)
        g = f.create_group("autocov")
        g["lags"] = np.arange(n_lags) * dt_sample
        for pop, sl in (("E", slice(0, nE)), ("I", slice(nE, None))):
            temporal, full = input_autocovariance(rec["h"][:, sl], n_lags)
            g[f"{pop}_temporal"] = temporal
            g[f"{pop}_full"] = full


def read_inputs(path, recording=None) -> dict:
    """One inputs.h5: groups as nested dicts, attributes of params, settings, stats and
    meta as dicts, the recording's "counts" as floats. recording: None = every dataset
    of /recording; a sequence of names = only those (an aggregate over hundreds of
    recordings then keeps a few kB of each instead of ~15 MB)."""


    with io.open_h5(path, kind="recording file") as f:
        if recording is None:
            out = io.read_group(f)
        else:
            out = {k: io.read_group(v) for k, v in f.items()
                   if k != "recording" and isinstance(v, h5py.Group)}
            out["recording"] = {k: f["recording"][k][()] for k in recording}
        for grp in ("params", "settings", "stats", "meta"):
            out[grp] = io.read_attrs(f[grp])
    if "counts" in out["recording"]:
        out["recording"]["counts"] = out["recording"]["counts"].astype(float)
    return out


def recording_params(d: dict) -> ModelParams:
    """The model of a recording read by read_inputs."""
    prm = d["params"]
    known = ModelParams.constant_names()
    return ModelParams.from_config({k: prm[k] for k in known if k in prm}, N=int(prm["N"]),
                                   J0=float(prm["J0"]))
