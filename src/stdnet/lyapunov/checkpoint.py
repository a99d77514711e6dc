"""Checkpoints of a network Lyapunov run: the file, when it is written, when it is resumed.

A checkpoint holds a run's whole state (stdnet.lyapunov.spectrum.SpectrumState: trajectory,
basis, local exponents, counters) and the run's fingerprint: everything that decides the
output's bytes (parameters, settings, seed, the starting state by its hash). It is
written atomically every checkpoint_interval of simulated time and on SIGTERM; a rerun
with the same fingerprint resumes from it to the same bytes, one with another
fingerprint ignores it with a WARNING (docs/onset.md, "Checkpoints"). The driver
(stdnet.lyapunov.run.onset_lyapunov) puts these pieces together.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import math
import signal
import threading
import time
from pathlib import Path

import numpy as np

from stdnet.files import io
from stdnet.files.errors import CheckpointError, InputFileError
from stdnet.lyapunov.sequential import without_unset
from stdnet.lyapunov.spectrum import SpectrumState

log = logging.getLogger("stdnet.lyapunov.spectrum")  # the stage's one logger (stdnet.lyapunov.spectrum)

CHECKPOINT_FORMAT = 1  # raise when the checkpoint layout changes: old ones are then ignored


def write_state(st: SpectrumState, path, fingerprint: dict, n_step: int, dt: float,
                phase: str) -> None:
    """Write the state to `path` atomically (temporary file, then os.replace)."""
    k = st.interval
    with io.atomic_h5(path) as f:
        io.write_attrs(f, {"format": CHECKPOINT_FORMAT, "interval": k,
                           "sub_step": st.sub_step, "n_extensions": st.n_extensions,
                           "phase": phase, "t": (k * n_step + st.sub_step) * dt,
                           "wall_time_s": st.wall_time_s, "qr_time_s": st.qr_time_s,
                           "records_divergence": st.records_divergence})
        io.write_attrs(f.create_group("fingerprint"), fingerprint)
        io.write_datasets(f, {"y": st.y, "Q": st.Q, "local": st.local[:k],
                              "divergence": st.divergence[:k]}, compress=False)


def read_state(cls, path) -> tuple[SpectrumState, dict]:
    """The state (an instance of cls) saved at `path` and the fingerprint it was saved with;
    CheckpointError when it cannot be read (whether its fingerprint fits is the caller's
    to judge)."""
    try:
        with io.open_h5(path, kind="checkpoint",
                        hint="the run that finds it starts again from t = 0") as f:
            a = io.read_attrs(f)
            st = cls(y=f["y"][()], Q=np.ascontiguousarray(f["Q"][()]),
                     local=f["local"][()], divergence=f["divergence"][()],
                     interval=int(a["interval"]), sub_step=int(a["sub_step"]),
                     n_extensions=int(a["n_extensions"]),
                     wall_time_s=float(a["wall_time_s"]), qr_time_s=float(a["qr_time_s"]),
                     records_divergence=bool(a["records_divergence"]))
            return st, io.read_attrs(f["fingerprint"])
    except InputFileError as e:
        raise CheckpointError(str(e)) from e


def checkpoint_path_for(output) -> Path:
    """The checkpoint next to an output: <run>/lyapunov.h5 -> <run>/lyapunov.checkpoint.h5
    (the name stdnet.workflow.status looks for, as for simulation.checkpoint.h5)."""
    out = Path(output)
    return out.with_name(f"{out.stem}.checkpoint.h5")


def checkpoint_steps(interval, dt: float) -> int:
    """Steps between checkpoints for lyapunov.checkpoint_interval (tau); 0: no checkpoints."""
    ok = (isinstance(interval, (int, float, np.floating, np.integer))
          and not isinstance(interval, bool) and math.isfinite(interval) and interval >= 0)
    if not ok:
        raise ValueError(f"lyapunov.checkpoint_interval: invalid value {interval!r}; allowed: "
                         "a number >= 0 (simulated time in tau; 0: no checkpoints)")
    return max(1, int(round(interval / dt))) if interval > 0 else 0


def checkpoint_fingerprint(params, settings, seed: int, zero_tol: float,
                           max_extensions: int, y0, tangent_path: str = "block") -> dict:
    """What a checkpoint must match to be resumed: everything that decides the output's
    bytes, the starting state by its hash. How often checkpoints are taken does not.

    tangent_path (TangentStepper.path): the fused and the block tangent step agree only
    to round-off, so a run resumes only a checkpoint of its own path. The key is written
    for paths other than "block" only: checkpoints written before the fused path existed
    (all block) still resume on the block path, and are refused, with the WARNING naming
    tangent_path, by a fused run.
    """
    y0 = np.ascontiguousarray(y0, dtype=np.float64)
    d = {"format": CHECKPOINT_FORMAT, "seed": int(seed), "zero_tol": float(zero_tol),
         "max_extensions": int(max_extensions),
         "y0_sha256": hashlib.sha256(y0.tobytes()).hexdigest()}
    if tangent_path != "block":
        d["tangent_path"] = str(tangent_path)
    d.update({f"model.{k}": v for k, v in params.to_dict().items()})
    # the sequential-look keys only where they are set: older checkpoints still resume
    d.update({f"settings.{k}": v
              for k, v in without_unset(dataclasses.asdict(settings)).items()})
    return d


def _fingerprint_diff(stored: dict, expected: dict) -> list[str]:
    """'key: checkpoint value != this run's value' for every key that differs."""
    want = {k: "None" if v is None else (v.item() if isinstance(v, np.generic) else v)
            for k, v in expected.items()}
    absent = "(absent)"
    keys = sorted(set(stored) | set(want))
    return [f"{k}: {stored.get(k, absent)!r} != {want.get(k, absent)!r}" for k in keys
            if stored.get(k, absent) != want.get(k, absent)]


def resume(path, fingerprint: dict) -> SpectrumState | None:
    """The checkpoint at `path` if it was written by this very run (same fingerprint).

    A checkpoint of other parameters or settings, or one that cannot be read, is
    ignored with a WARNING saying why: this run starts from t = 0 and overwrites it
    at its first checkpoint. It can never be valid for this run, so failing the job
    would only need a person to delete it by hand.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        st, stored = read_state(SpectrumState, path)
    except (OSError, KeyError, ValueError, TypeError) as e:
        log.warning("checkpoint %s cannot be read (%s: %s); ignoring it, starting from t = 0",
                    path, type(e).__name__, e)
        return None
    diff = _fingerprint_diff(stored, fingerprint)
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        log.warning("checkpoint %s was written with other parameters or settings, not "
                    "resumed; starting from t = 0 (checkpoint != this run: %s)", path, shown)
        return None
    return st


def phase(st: SpectrumState, n_align: int) -> str:
    """Where a run is, for the logs and the checkpoint's `phase` attribute."""
    if st.n_extensions:
        return f"extension {st.n_extensions}"
    return "align" if st.interval < n_align else "average"


class Checkpointer:
    """Saves a run's state every `every` steps, and once more when a SIGTERM came."""

    def __init__(self, path, every: int, fingerprint: dict, n_step: int, dt: float,
                 n_align: int):
        self.path, self.every, self.fingerprint = Path(path), int(every), fingerprint
        self.n_step, self.dt, self.n_align = n_step, dt, n_align
        self.next_step = self.every
        self.terminated = False  # set by the SIGTERM handler (checkpoint_on_sigterm)
        self._logged = False

    def start(self, step: int) -> None:
        self.next_step = (step // self.every + 1) * self.every

    def after_call(self, st: SpectrumState, step: int) -> None:
        """Called between two advance calls, where the state is consistent."""
        self.exit_if_terminated(st)
        if step >= self.next_step:
            self.save(st)
            self.next_step = (step // self.every + 1) * self.every

    def exit_if_terminated(self, st: SpectrumState) -> None:
        if self.terminated:
            self.terminated = False  # handled: nothing to deliver again on the way out
            self.save(st)
            log.warning("SIGTERM: checkpoint written at t = %.2f tau (%s); exiting, a rerun "
                        "resumes from it", self._t(st), phase(st, self.n_align))
            raise SystemExit(128 + signal.SIGTERM)

    def save(self, st: SpectrumState) -> None:
        t0 = time.perf_counter()
        write_state(st, self.path, self.fingerprint, self.n_step, self.dt, phase(st, self.n_align))
        took = time.perf_counter() - t0
        # the first one says where and what it costs; the rest only at debug level
        log.log(logging.DEBUG if self._logged else logging.INFO,
                "checkpoint at t = %.2f tau: %s (%.2f MB, %.3f s)", self._t(st), self.path,
                self.path.stat().st_size / 1e6, took)
        self._logged = True

    def _t(self, st: SpectrumState) -> float:
        return (st.interval * self.n_step + st.sub_step) * self.dt


@contextlib.contextmanager
def checkpoint_on_sigterm(ckpt: Checkpointer | None):
    """While the run goes on, SIGTERM only sets a flag; the run then checkpoints at the end
    of the current advance call (state consistent) and exits with 128 + SIGTERM, as
    stdnet.workflow.runtime.exit_cleanly_on_sigterm does. Outside, the previous handler is back; a
    SIGTERM still pending then (an error on the way out) is passed on to it."""
    if ckpt is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        ckpt.terminated = True

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if ckpt.terminated:
            signal.raise_signal(signal.SIGTERM)
