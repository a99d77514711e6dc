"""Run one trajectory in chunks, record observables, checkpoint and resume.

A `Simulator` owns the whole state of a run (the network state vector, the step
counter, the recorded buffers and the running per-neuron statistics), so that a
run split into any number of pieces, or stopped and resumed from a checkpoint,
gives exactly the same bytes as one uninterrupted run. Time is always
step * dt, never an accumulated float.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from stdnet.files import io
from stdnet.files.errors import (  # DivergenceError: re-exported
    CheckpointError,
    DivergenceError,
    InputFileError,
)
from stdnet.files.progress import ProgressMeter
from stdnet.kernels import etd4 as expint
from stdnet.kernels.cpu import METHOD_CODES, PRECISIONS, advance, kernel_args, make_work
from stdnet.model.network import Network, build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.model.seeding import rng, seed_sequences
from stdnet.model.transfer import phi
from stdnet.theory.meanfield import homogeneous_fixed_point

log = logging.getLogger("stdnet.simulation.simulate")

POPULATION_KEYS = ("nu_E", "nu_I", "x", "h_E", "h_I")


@dataclass
class SimState:
    """Everything a run needs to continue: restored from a checkpoint bit for bit."""

    y: np.ndarray
    step: int
    sample: int  # number of samples recorded so far
    population: np.ndarray  # (n_samples_total, 5)
    rec_h: np.ndarray  # (n_samples_total, n_rec_E + n_rec_I)
    rec_nu: np.ndarray
    rec_x: np.ndarray  # (n_samples_total, n_rec_E)
    stat_count: int
    h_mean: np.ndarray
    h_m2: np.ndarray
    nu_mean: np.ndarray
    nu_m2: np.ndarray
    x_mean: np.ndarray

    ARRAYS = ("y", "population", "rec_h", "rec_nu", "rec_x", "h_mean", "h_m2", "nu_mean",
              "nu_m2", "x_mean")

    def save(self, path, fingerprint: dict) -> None:
        with io.atomic_h5(path) as f:
            io.write_attrs(f, {"step": self.step, "sample": self.sample,
                               "stat_count": self.stat_count})
            io.write_attrs(f.create_group("fingerprint"), fingerprint)
            io.write_datasets(f, {k: getattr(self, k) for k in self.ARRAYS}, compress=False)

    @classmethod
    def load(cls, path, fingerprint: dict) -> "SimState":
        """The state saved at `path`; CheckpointError when it cannot be read or was
        written by another run (a person must then delete it: it is never overwritten)."""
        hint = "delete it to start the run from the beginning"
        try:
            with io.open_h5(path, kind="checkpoint", hint=hint) as f:
                diff = io.fingerprint_diff(io.read_attrs(f["fingerprint"]), fingerprint)
                if diff:
                    raise CheckpointError(f"checkpoint {path} belongs to another run "
                                          f"(checkpoint != this run: {'; '.join(diff)}): "
                                          f"{hint}, or give this run another checkpoint path")
                arrays = {k: f[k][()] for k in cls.ARRAYS}
                return cls(step=int(f.attrs["step"]), sample=int(f.attrs["sample"]),
                           stat_count=int(f.attrs["stat_count"]), **arrays)
        except InputFileError as e:
            raise CheckpointError(str(e)) from e


def recorded_indices(params: ModelParams, n_record: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the recorded E and I neurons (the first n of each population;
    the network is random, so these are a random sample)."""
    n_E = min(n_record, params.N_E)
    n_I = min(n_record, params.N_I)
    return np.arange(n_E), params.N_E + np.arange(n_I)


def initial_state(params: ModelParams, run: RunParams, seed: int) -> np.ndarray:
    """Homogeneous fixed point plus a seeded Gaussian kick of the inputs h."""
    y = homogeneous_fixed_point(params).state(params)
    if run.perturbation > 0:
        y[: params.N] += run.perturbation * rng(seed, "initial_state").standard_normal(params.N)
    return y


def run_fingerprint(params: ModelParams, run: RunParams, seed: int) -> dict:
    """Everything that determines a run's bytes; chunking and checkpoint spacing do not."""
    d = {"seed": int(seed)}
    d.update({f"model.{k}": v for k, v in params.to_dict().items()})
    d.update({f"run.{k}": v for k, v in run.to_dict().items()
              if k not in ("chunk_steps", "checkpoint_interval")})
    if run.backend == "cpu":  # checkpoints written before there was a GPU backend match
        del d["run.backend"]
    return d


class CpuEngine:
    """Advance and record one run with the numba kernels of stdnet.kernels.cpu; the state
    lives in SimState itself (stdnet.kernels.cuda.engine.CudaEngine is the GPU twin)."""

    def __init__(self, params: ModelParams, run: RunParams, net: Network, state: SimState):
        self.p, self.dt = params, run.dt
        self.dtype = PRECISIONS[run.precision]
        self.args = kernel_args(params, net, dtype=self.dtype)
        if run.method == expint.METHOD:  # the stiff homogeneous mode taken exactly
            self.work = expint.make_work(params, self.dtype)
            self.method, self._advance = expint.METHOD_CODE, expint.advance
        else:
            self.work = make_work(params, self.dtype)
            self.method, self._advance = METHOD_CODES[run.method], advance
        self.device = "cpu"

    def advance(self, st: SimState, n: int) -> int:
        """n steps; -1, or the index of the first step whose result is not finite."""
        if self.dtype is np.float64:
            return self._advance(st.y, n, self.method, self.dt, *self.args, self.work)
        y = st.y.astype(self.dtype)
        bad = self._advance(y, n, self.method, self.dt, *self.args, self.work)
        st.y[:] = y
        return bad

    def sample(self, st: SimState, rec_E: np.ndarray, rec_I: np.ndarray, count: int):
        """(population means, h, nu, x of the recorded neurons rec_E, rec_I); with count > 0
        Welford's running statistics take it as sample `count`."""
        p = self.p
        N, N_E = p.N, p.N_E
        h = st.y[:N]
        x = st.y[N:]
        nu = phi(p.transfer, h)
        pop = (nu[:N_E].mean(), nu[N_E:].mean(), x.mean(), h[:N_E].mean(), h[N_E:].mean())
        if count > 0:  # running mean and sum of squared deviations, per neuron
            d = h - st.h_mean
            st.h_mean += d / count
            st.h_m2 += d * (h - st.h_mean)
            d = nu - st.nu_mean
            st.nu_mean += d / count
            st.nu_m2 += d * (nu - st.nu_mean)
            st.x_mean += (x - st.x_mean) / count
        idx = np.concatenate([rec_E, rec_I])
        return pop, h[idx], nu[idx], x[rec_E]

    def sync(self, st: SimState, stats: bool = True) -> None:
        """Nothing to copy: the state is in `st` already."""


def make_engine(params: ModelParams, run: RunParams, net: Network, state: SimState):
    """The engine of run.backend; InputError naming simulation.backend where CUDA is
    asked for and cannot run here."""
    if run.backend == "cuda":
        # lazy: numba-cuda is optional; only the CUDA backend loads it
        from stdnet.kernels.cuda.engine import CudaEngine

        return CudaEngine(params, run, net, state)
    return CpuEngine(params, run, net, state)


class Simulator:
    def __init__(self, params: ModelParams, run: RunParams, seed: int,
                 network: Network | None = None, state: SimState | None = None,
                 y0: np.ndarray | None = None):
        self.params, self.run, self.seed = params, run, int(seed)
        self.net = network if network is not None else build_network(params, seed)
        self.rec_E, self.rec_I = recorded_indices(params, run.n_record)
        self.n_samples_total = run.total_steps // run.steps_per_record + 1
        if state is None:
            y = initial_state(params, run, seed) if y0 is None else np.array(y0, dtype=float)
            if y.shape != (params.dim,):
                raise ValueError(f"y0: wrong shape {y.shape}; allowed: ({params.dim},)")
            # the state is kept in float64 but holds values of the kernel's type, so the
            # conversions at every chunk boundary are exact (chunked == one run)
            y = y.astype(PRECISIONS[run.precision]).astype(np.float64)
            state = self._fresh_state(y)
        self.state = state
        self._engine = make_engine(params, run, self.net, state)
        if state.sample == 0:
            self._record()

    # ---- state ----------------------------------------------------------------
    def _fresh_state(self, y) -> SimState:
        p, n = self.params, self.n_samples_total
        n_rec = self.rec_E.size + self.rec_I.size
        return SimState(
            y=y, step=0, sample=0, population=np.zeros((n, len(POPULATION_KEYS))),
            rec_h=np.zeros((n, n_rec)), rec_nu=np.zeros((n, n_rec)),
            rec_x=np.zeros((n, self.rec_E.size)), stat_count=0,
            h_mean=np.zeros(p.N), h_m2=np.zeros(p.N), nu_mean=np.zeros(p.N),
            nu_m2=np.zeros(p.N), x_mean=np.zeros(p.N_E))

    def fingerprint(self) -> dict:
        """What a checkpoint must match to be resumed by this run."""
        return run_fingerprint(self.params, self.run, self.seed)

    @property
    def y(self) -> np.ndarray:
        """The current state vector (copied from the GPU first where it runs there)."""
        self._engine.sync(self.state, stats=False)
        return self.state.y

    @property
    def device(self) -> str:
        """What integrated the run: cpu, or the GPU's name."""
        return self._engine.device

    @property
    def t(self) -> float:
        return self.state.step * self.run.dt

    @property
    def done(self) -> bool:
        return self.state.step >= self.run.total_steps

    # ---- recording --------------------------------------------------------------
    def _record(self) -> None:
        st = self.state
        count = 0
        if st.step >= self.run.transient_steps:  # the per-neuron statistics take it too
            st.stat_count += 1
            count = st.stat_count
        pop, h, nu, x = self._engine.sample(st, self.rec_E, self.rec_I, count)
        k = st.sample
        st.population[k] = pop
        st.rec_h[k] = h
        st.rec_nu[k] = nu
        st.rec_x[k] = x
        st.sample += 1

    # ---- integration ------------------------------------------------------------
    def advance_to(self, target_step: int, progress_every_s: float = 10.0,
                   checkpoint_path=None) -> None:
        """Integrate until step `target_step` (clipped to the run's end), recording on the way."""
        run, st = self.run, self.state
        target = min(int(target_step), run.total_steps)
        spr = run.steps_per_record
        ckpt_every = (int(round(run.checkpoint_interval / run.dt))
                      if run.checkpoint_interval > 0 else 0)
        next_ckpt = ((st.step // ckpt_every) + 1) * ckpt_every if ckpt_every else None
        # the first call compiles the kernels (numba): the meter's rate counts from its end
        meter = ProgressMeter(log, run.total_steps, tau_per_unit=run.dt,
                              every_s=progress_every_s)
        while st.step < target:
            # never step past the next sample time, so recording sees the same states
            next_sample = (st.step // spr + 1) * spr
            n = min(next_sample, target, st.step + run.chunk_steps) - st.step
            bad = self._engine.advance(st, n)
            if bad >= 0:
                step = st.step + bad + 1
                p = self.params
                raise DivergenceError(
                    f"integration diverged (non-finite state) at step {step}, "
                    f"t = {step * run.dt:g}, for N={p.N}, J0={p.J0}, seed={self.seed}, "
                    f"dt={run.dt}, method={run.method}; parameters: {p.to_dict()}. "
                    "Try a smaller dt (the fast homogeneous eigenvalue grows like sqrt(K) J0).")
            st.step += n
            if st.step % spr == 0:
                self._record()
            if checkpoint_path is not None and next_ckpt is not None and st.step >= next_ckpt:
                self._engine.sync(st)
                st.save(checkpoint_path, self.fingerprint())
                next_ckpt += ckpt_every
            meter.update(st.step)

    def result(self) -> dict:
        """Observables of the finished (or partial) run as arrays."""
        st, run = self.state, self.run
        self._engine.sync(st)
        n = st.sample
        times = np.arange(n) * run.steps_per_record * run.dt
        ddof_c = max(st.stat_count - 1, 1)
        pop = {k: st.population[:n, i] for i, k in enumerate(POPULATION_KEYS)}
        return {
            "time": times,
            "population": pop,
            "recorded": {"index": np.concatenate([self.rec_E, self.rec_I]),
                         "h": st.rec_h[:n], "nu": st.rec_nu[:n], "x": st.rec_x[:n]},
            "neurons": {"h_mean": st.h_mean.copy(), "h_var": st.h_m2 / ddof_c,
                        "nu_mean": st.nu_mean.copy(), "nu_var": st.nu_m2 / ddof_c,
                        "x_mean": st.x_mean.copy(), "n_samples": np.int64(st.stat_count)},
            "final": {"y": st.y.copy(), "step": np.int64(st.step), "t": self.t},
        }


def simulate(params: ModelParams, run: RunParams, seed: int, *, checkpoint_path=None,
             progress_every_s: float = 10.0, network: Network | None = None) -> dict:
    """Run one trajectory to the end and return its observables.

    With `checkpoint_path`, the state is saved there every `run.checkpoint_interval`
    and a matching checkpoint found at start is resumed; `write_simulation` removes
    it once the output is safely written.
    """
    t0 = time.perf_counter()
    state = None
    if checkpoint_path is not None and Path(checkpoint_path).exists():
        state = SimState.load(checkpoint_path, run_fingerprint(params, run, seed))
        log.info("resuming from checkpoint %s at step %d", checkpoint_path, state.step)
    sim = Simulator(params, run, seed, network=network, state=state)
    log.info("N=%d (N_E=%d, K_E=%d, K_I=%d), J0=%g, seed=%d: %d steps of %s, dt=%g",
             params.N, params.N_E, params.K_E, params.K_I, params.J0, seed,
             run.total_steps, run.method, run.dt)
    sim.advance_to(run.total_steps, progress_every_s=progress_every_s,
                   checkpoint_path=checkpoint_path)
    wall = time.perf_counter() - t0
    log.info("finished %d steps in %.1f s", run.total_steps, wall)
    out = sim.result()
    fp = homogeneous_fixed_point(params)
    out["fixed_point"] = fp.to_dict()
    out["wall_time_s"] = wall
    out["device"] = sim.device
    out["network"] = sim.net
    return out


def write_simulation(path, result: dict, params: ModelParams, run: RunParams, seed: int,
                     checkpoint_path=None, config: dict | None = None) -> None:
    """Write a simulation result to HDF5, atomically (layout: README 'Output layout').

    The run's checkpoint, if any, is removed only after the output is complete, so a
    job killed at any moment leaves either the checkpoint or the finished file. `config`,
    the resolved workflow config, is stored as YAML text in /meta.config.
    """
    _write_simulation_file(path, result, params, run, seed, config)
    if checkpoint_path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(checkpoint_path)


def _write_simulation_file(path, result, params, run, seed, config=None) -> None:
    with io.atomic_h5(path) as f:
        io.write_params(f, params, seed, run)
        meta = io.provenance()
        meta["wall_time_s"] = float(result.get("wall_time_s", float("nan")))
        seqs = seed_sequences(seed)
        meta.update({f"seed_entropy.{k}": str(v.entropy) for k, v in seqs.items()})
        meta.update({f"seed_spawn_key.{k}": str(v.spawn_key) for k, v in seqs.items()})
        meta["omp_threads"] = os.environ.get("NUMBA_NUM_THREADS", "")
        meta["device"] = str(result.get("device", "cpu"))
        if config is not None:  # the resolved workflow config that asked for this run

            meta["config"] = yaml.safe_dump(config, sort_keys=False)
        io.write_attrs(f.create_group("meta"), meta)
        f.create_dataset("time", data=result["time"])
        f["time"].attrs["unit"] = "tau"
        f["time"].attrs["t_transient"] = run.t_transient
        io.write_datasets(f.create_group("population"), result["population"])
        io.write_datasets(f.create_group("recorded"), result["recorded"])
        io.write_datasets(f.create_group("neurons"), result["neurons"])
        io.write_datasets(f.create_group("final"), result["final"], compress=False)
        io.write_attrs(f.create_group("fixed_point"), result["fixed_point"])
        _name_dimensions(f, result, params)


#: units of the simulation file's datasets that are not dimensionless ("1"): times in tau,
#: rates in 1/tau
_UNITS = {"time": "tau", "final/t": "tau", "population/nu_E": "1/tau",
          "population/nu_I": "1/tau", "recorded/nu": "1/tau", "neurons/nu_mean": "1/tau",
          "neurons/nu_var": "1/tau^2"}


def _name_dimensions(f, result: dict, params: ModelParams) -> None:
    """Coordinates for neurons, recorded neurons and state components, every dataset's
    dimensions and units (docs: README, loading results with xarray)."""
    n_E = int(result["recorded"]["x"].shape[1])
    f["recorded/index_E"] = result["recorded"]["index"][:n_E]
    f["neurons/neuron"] = np.arange(params.N, dtype=np.int64)
    f["final/component"] = np.arange(params.dim, dtype=np.int64)
    coords = {"time": "time", "recorded_neuron": "recorded/index",
              "recorded_E": "recorded/index_E", "neuron": "neurons/neuron",
              "component": "final/component"}
    dims = {f"population/{k}": ("time",) for k in result["population"]}
    dims.update({"recorded/h": ("time", "recorded_neuron"),
                 "recorded/nu": ("time", "recorded_neuron"),
                 "recorded/x": ("time", "recorded_E"), "final/y": ("component",)})
    dims.update({f"neurons/{k}": ("neuron",) for k in ("h_mean", "h_var", "nu_mean", "nu_var")})
    f["neurons/neuron_E"] = np.arange(params.N_E, dtype=np.int64)  # x exists for E only
    coords["neuron_E"] = "neurons/neuron_E"
    dims["neurons/x_mean"] = ("neuron_E",)
    paths = [*dims, *coords.values(), "neurons/n_samples", "final/step", "final/t"]
    io.name_dimensions(f, coords, dims, {path: _UNITS.get(path, "1") for path in paths})


def read_simulation(path) -> dict:
    """Read back a simulation file: params, meta, fixed_point as dicts; the rest as arrays.
    InputFileError when it is missing, unreadable or incomplete (io.open_h5)."""
    with io.open_h5(path, kind="simulation file") as f:
        out = io.read_group(f)
        out["params"] = io.read_attrs(f["params"])
        out["meta"] = io.read_attrs(f["meta"])
        out["fixed_point"] = io.read_attrs(f["fixed_point"])
        out["t_transient"] = float(f["time"].attrs["t_transient"])
    return out
