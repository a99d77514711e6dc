"""The network's Lyapunov run: from a simulation's final state to exponents and a decision.

The network's tangent system is stdnet.lyapunov.tangent.TangentStepper (trajectory + m tangent
vectors, the RK4 map's variational equation; the fused path for m <= 3, the block path
for spectra, chosen by the stepper); this module builds it from a run's
parameters and network, draws the seed's starting basis and runs the system-agnostic
QR algorithm of stdnet.lyapunov.spectrum on it:

* `network_lyapunov`: t_align + t_average, one result;
* `onset_lyapunov`: the same, then the chaos decision (stdnet.transition.regimes.chaos_decision);
  while it is undecided the same run is continued to its next look (another t_average,
  or every look_every; as continue_spectrum: same state, same basis, local exponents
  appended), up to max_extensions further t_average; with sequential_alpha the looks'
  level keeps the error over all of them controlled (stdnet.lyapunov.sequential); with
  cycle_check > 0 an undecided first look first checks the trajectory for a stable
  periodic orbit (stdnet.lyapunov.attractor), which ends the run "not chaotic". It can
  checkpoint and resume to the same bytes (stdnet.lyapunov.checkpoint; docs/onset.md,
  "Checkpoints");
* `lyapunov_of_simulation`: what rule lyapunov runs, from a read simulation file and the
  config's sections.

Settings come from the config section `lyapunov` (LyapunovSettings).
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import numpy as np

from stdnet.lyapunov.attractor import SETTLE as CYCLE_SETTLE
from stdnet.lyapunov.attractor import check_cycle, mean_excitatory_input, network_stepper
from stdnet.lyapunov.checkpoint import (
    Checkpointer,
    checkpoint_fingerprint,
    checkpoint_on_sigterm,
    checkpoint_steps,
    phase,
    resume,
)
from stdnet.lyapunov.decision import NOT_CHAOTIC, UNDECIDED, chaos_decision
from stdnet.lyapunov.files import simulation_start
from stdnet.lyapunov.qr import random_basis
from stdnet.lyapunov.sequential import controlled_level, look_intervals
from stdnet.lyapunov.spectrum import (
    CI_METHODS,
    IntervalRunner,
    LyapunovResult,
    SpectrumState,
    lyapunov_spectrum,
    spectrum_result,
    whole_steps,
)
from stdnet.lyapunov.tangent import TangentStepper
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams, RunParams
from stdnet.model.seeding import rng

log = logging.getLogger("stdnet.lyapunov.spectrum")  # the stage's one logger (stdnet.lyapunov.spectrum)


@dataclass(frozen=True)
class LyapunovSettings:
    """How the exponents of one network run are measured (config section `lyapunov`)."""

    n_exponents: int = 8
    delta_t: float = 1.0
    t_align: float = 20.0
    t_average: float = 200.0
    n_blocks: int = 10
    confidence: float = 0.95
    tol_abs: float = 0.005
    tol_rel: float = 0.1
    ci_method: str = "batch_means"
    max_extensions: int = 2
    look_every: float = 0.0  # 0: look again only after each further t_average
    sequential_alpha: float | None = None  # None: every look at `confidence`
    cycle_check: float = 0.0  # tau of the periodic-orbit check at an undecided first look; 0: off
    dt: float = RunParams.dt  # the simulation's integrator: one default, RunParams'
    method: str = RunParams.method

    def __post_init__(self):
        if not (isinstance(self.n_exponents, int) and self.n_exponents >= 1):
            raise ValueError(f"lyapunov.n_exponents: invalid value {self.n_exponents!r}; "
                             "allowed: an integer >= 1")
        if self.ci_method not in CI_METHODS:
            raise ValueError(f"lyapunov.ci_method: invalid value {self.ci_method!r}; allowed: "
                             f"{', '.join(CI_METHODS)}")
        if not (isinstance(self.max_extensions, int) and not isinstance(self.max_extensions, bool)
                and self.max_extensions >= 0):
            raise ValueError(f"lyapunov.max_extensions: invalid value {self.max_extensions!r}; "
                             "allowed: an integer >= 0")
        if not (isinstance(self.n_blocks, int) and self.n_blocks >= 2):
            raise ValueError(f"lyapunov.n_blocks: invalid value {self.n_blocks!r}; "
                             "allowed: an integer >= 2")
        for key, t, unit, name in (("delta_t", self.delta_t, self.dt, "simulation.dt"),
                                   ("t_align", self.t_align, self.delta_t, "lyapunov.delta_t"),
                                   ("t_average", self.t_average, self.delta_t,
                                    "lyapunov.delta_t")):
            r = t / unit
            if not (r >= 0 and abs(r - round(r)) < 1e-9 * max(1.0, r)):
                raise ValueError(f"lyapunov.{key}: invalid value {t}; allowed: a whole multiple "
                                 f"of {name} ({unit})")
        if round(self.delta_t / self.dt) < 1:  # 1e-12 is a "whole multiple" of dt: 0 steps
            raise ValueError(f"lyapunov.delta_t: invalid value {self.delta_t}; allowed: a whole "
                             f"multiple of simulation.dt ({self.dt}), at least one step")
        lv = self.look_every
        if not (isinstance(lv, (int, float)) and not isinstance(lv, bool) and lv >= 0
                and abs(lv / self.delta_t - round(lv / self.delta_t)) < 1e-9 * max(1.0, lv)
                and (lv == 0 or round(lv / self.delta_t) >= 1)):
            raise ValueError(f"lyapunov.look_every: invalid value {lv!r}; allowed: 0 (look "
                             f"after each t_average) or a whole multiple of lyapunov.delta_t "
                             f"({self.delta_t}), at least one")
        a = self.sequential_alpha
        if a is not None and not (isinstance(a, (int, float)) and not isinstance(a, bool)
                                  and 0 < a < 1):
            raise ValueError(f"lyapunov.sequential_alpha: invalid value {a!r}; allowed: null "
                             "(every look at lyapunov.confidence) or a number in (0, 1)")
        cc = self.cycle_check
        if not (isinstance(cc, (int, float)) and not isinstance(cc, bool) and math.isfinite(cc)
                and (cc == 0 or cc > CYCLE_SETTLE)):
            raise ValueError(f"lyapunov.cycle_check: invalid value {cc!r}; allowed: 0 (off) or "
                             f"a number of tau > {CYCLE_SETTLE} (the check's settling time)")
        if self.t_average < 2 * self.delta_t:
            raise ValueError(f"lyapunov.t_average: invalid value {self.t_average}; allowed: at "
                             f"least 2 delta_t ({2 * self.delta_t})")

    @classmethod
    def from_config(cls, section: dict, simulation: dict, J0: float | None = None,
                    N: int | None = None) -> "LyapunovSettings":
        """Settings of one run; at a J0 listed in spectrum_J0 (and N <= spectrum_N_max
        when that is > 0), spectrum_exponents exponents."""
        keys = {"n_exponents", "delta_t", "t_align", "t_average", "n_blocks", "confidence",
                "tol_abs", "tol_rel", "ci_method", "max_extensions", "look_every",
                "sequential_alpha", "cycle_check"}
        extra = {"spectrum_J0", "spectrum_exponents", "spectrum_N_max",
                 "checkpoint_interval"}  # not settings
        unknown = set(section) - keys - extra
        if unknown:
            raise ValueError(f"lyapunov: unknown key(s) {sorted(unknown)}; allowed: "
                             f"{sorted(keys | extra)}")
        kw = {k: v for k, v in section.items() if k in keys}
        if spectrum_run(section, J0, N):
            kw["n_exponents"] = int(section.get("spectrum_exponents", 64))
        return cls(**kw, dt=float(simulation.get("dt", RunParams.dt)),
                   method=simulation.get("method", RunParams.method))

    def looks(self, max_extensions: int | None = None) -> list[int]:
        """QR intervals averaged at each look at the chaos decision: t_average, then every
        look_every (every t_average when 0) up to t_average (1 + max_extensions)."""
        n_max = self.max_extensions if max_extensions is None else int(max_extensions)
        n_avg = whole_steps(self.t_average, self.delta_t, "t_average")
        n_look = (whole_steps(self.look_every, self.delta_t, "look_every")
                  if self.look_every else n_avg)
        return look_intervals(n_avg, n_look, n_avg * (1 + n_max))

    def look_confidence(self, looks: list[int]) -> float:
        """The level of every look: `confidence`, or with sequential_alpha the level that
        keeps each wrong decision's probability over all looks at alpha / 2
        (stdnet.lyapunov.sequential.controlled_level)."""
        if self.sequential_alpha is None:
            return self.confidence
        return controlled_level([n * self.delta_t for n in looks], self.sequential_alpha)


def spectrum_run(section: dict, J0: float | None, N: int | None) -> bool:
    """Does the run at (N, J0) compute the long spectrum (lyapunov.spectrum_J0, up to
    lyapunov.spectrum_N_max; 0 = every N)?"""
    if J0 is None or not any(abs(float(J0) - float(j)) < 1e-9
                             for j in section.get("spectrum_J0", [])):
        return False
    n_max = int(section.get("spectrum_N_max", 0))
    return not (n_max > 0 and N is not None and int(N) > n_max)


def _stepper(params, net, settings: LyapunovSettings, seed: int):
    """The tangent stepper of one run (m capped at the phase-space dimension), logged."""
    m = min(int(settings.n_exponents), params.dim)
    log.info("N=%d J0=%g seed=%d: %d exponents, delta_t=%g, align %g + average %g tau, CI %s",
             params.N, params.J0, seed, m, settings.delta_t, settings.t_align,
             settings.t_average, settings.ci_method)
    st = TangentStepper(params, net, m, settings.dt, settings.method)
    log.info("tangent step: %s path (%s)", st.path, "trajectory and vectors in one gather"
             if st.path == "fused" else "blocks of 8 vectors")
    return st


def _basis(params, stepper, seed: int) -> np.ndarray:
    """The seed's starting tangent basis (its own "tangent_basis" stream)."""
    return random_basis(params.dim, stepper.m, rng(seed, "tangent_basis"))


def _spectrum_kwargs(settings: LyapunovSettings, **override) -> dict:
    """The QR algorithm's keywords from the settings (t_average etc. may be overridden)."""
    kw = dict(delta_t=settings.delta_t, t_align=settings.t_align,
              t_average=settings.t_average, n_blocks=settings.n_blocks,
              confidence=settings.confidence, tol_abs=settings.tol_abs,
              tol_rel=settings.tol_rel, ci_method=settings.ci_method)
    kw.update(override)
    return kw


def _log_result(res: LyapunovResult) -> None:
    log.info("lambda_max = %.4f +- %.4f%s (converged: %s; tau_int %.3g tau, %d batches of %d), "
             "%g tau averaged, wall %.1f s, QR %.2f%%", res.lambda_max, res.half_width[0],
             " (envelope)" if res.ci_envelope[0] else "", res.converged,
             res.tau_int[0] * res.delta_t, res.n_batches[0], res.batch_length[0],
             res.t_average, res.wall_time_s,
             100 * res.qr_time_s / max(res.wall_time_s, 1e-12))


def network_lyapunov(params, net, y0, settings: LyapunovSettings, seed: int):
    """Exponents of one network from state y0 (not modified); returns (result, final y).

    The tangent basis is drawn from the seed's own "tangent_basis" stream; the
    first settings.t_align only aligns it (no second trajectory transient: y0 is
    the simulation's final state).
    """
    stepper = _stepper(params, net, settings, seed)
    y = np.array(y0, dtype=np.float64)
    res = lyapunov_spectrum(stepper, y, _basis(params, stepper, seed),
                            **_spectrum_kwargs(settings), divergence=stepper.divergence)
    _log_result(res)
    return res, y


def _interval_counts(settings: LyapunovSettings) -> tuple[int, int, int]:
    """Steps per QR interval, alignment intervals, averaging intervals per t_average."""
    n_step = whole_steps(settings.delta_t, settings.dt, "delta_t")
    return (n_step, whole_steps(settings.t_align, settings.delta_t, "t_align"),
            whole_steps(settings.t_average, settings.delta_t, "t_average"))


def _state_result(st: SpectrumState, settings: LyapunovSettings, n_align: int,
                  n_target: int, confidence: float, looks: list[int]) -> LyapunovResult:
    """The statistics of the first n_target intervals of a run (as continue_spectrum gives)."""
    t_average = settings.t_average
    for k in range(st.n_extensions):  # summed as continue_spectrum does: the same float
        t_average += (settings.t_average if not settings.look_every
                      else (looks[k + 1] - looks[k]) * settings.delta_t)
    return spectrum_result(st.local[:n_align], st.local[n_align:n_target],
                           st.divergence[n_align:n_target],
                           **_spectrum_kwargs(settings, t_average=t_average,
                                              confidence=confidence),
                           wall=st.wall_time_s, t_qr=st.qr_time_s,
                           n_extensions=st.n_extensions)


def run_until_decided(runner, settings: LyapunovSettings, n_align: int, n_max: int,
                       zero_tol: float, cycle_check=None):
    """Alignment + averaging, then one more look at a time while undecided
    (LyapunovSettings.looks; at each the level LyapunovSettings.look_confidence).
    runner: an IntervalRunner (anything with .st and run_to(n_intervals)).

    cycle_check(y) -> stdnet.lyapunov.attractor.CycleCheck: when given and the first look is
    undecided with |lambda_max| < zero_tol, the trajectory is checked for a periodic orbit
    (from a copy of the state, so the run itself is unchanged); a certified orbit ends the
    run "not chaotic" there
    (lambda_max of a stable orbit is 0). Once past the first look the check is not
    repeated: a run resumed from a later checkpoint has had it, without success."""
    st = runner.st
    looks = settings.looks(n_max)
    level = settings.look_confidence(looks)
    checked = {}
    while True:
        n_target = n_align + looks[min(st.n_extensions, len(looks) - 1)]
        st.grow(n_target)
        runner.run_to(n_target)
        res = _state_result(st, settings, n_align, n_target, level, looks)
        decision = chaos_decision(res.lambda_max, res.half_width[0], zero_tol)
        # only where the estimate itself looks like a zero exponent: an undecided run with
        # lambda_max >= zero_tol is mostly weak chaos, and the check would cost it time
        if (decision == UNDECIDED and cycle_check is not None and st.n_extensions == 0
                and abs(res.lambda_max) < zero_tol):
            found = cycle_check(st.y)
            checked = dataclasses.asdict(found)
            log.info("periodic-orbit check after %g tau: %s", res.t_average,
                     f"{found.criterion} orbit, period {found.period:.4g} tau "
                     f"({found.returns_per_period} crossing(s)), return distance "
                     f"{found.distance:.2g}" if found.found else
                     f"none in {found.t_checked:g} tau ({found.n_crossings} crossings, "
                     f"closest return {found.distance:.2g})")
            if found.found:
                return dataclasses.replace(res, cycle=checked), NOT_CHAOTIC
        if decision != UNDECIDED or st.n_extensions >= len(looks) - 1:
            return dataclasses.replace(res, cycle=checked), decision
        log.info("undecided after %g tau (lambda_max %.4f +- %.3g at %.4g, zero_tol %g): look "
                 "%d/%d after %g tau more", res.t_average, res.lambda_max, res.half_width[0],
                 level, zero_tol, st.n_extensions + 2, len(looks),
                 (looks[st.n_extensions + 1] - looks[st.n_extensions]) * settings.delta_t)
        st.n_extensions += 1  # a checkpoint from here on resumes into the next look


def _cycle_checker(params, net, settings: LyapunovSettings):
    """y -> stdnet.lyapunov.attractor.CycleCheck with the run's integrator, or None when
    lyapunov.cycle_check is 0."""
    if not settings.cycle_check:
        return None

    step = network_stepper(params, net, settings.method)
    section = mean_excitatory_input(params)
    return lambda y: check_cycle(step, y, settings.dt, settings.cycle_check, section)


def onset_lyapunov(params, net, y0, settings: LyapunovSettings, seed: int, zero_tol: float,
                   max_extensions: int | None = None, *, checkpoint_path=None,
                   checkpoint_interval: float = 0.0, progress_every_s: float = 10.0):
    """network_lyapunov with the chaos decision; extended while it is undecided.

    Runs t_align + t_average (as network_lyapunov, same seed -> same numbers), applies
    stdnet.transition.regimes.chaos_decision(lambda_max, half width, zero_tol) and, while that
    is "undecided", continues the same run (same state, same basis, local exponents
    appended: as continue_spectrum) to the next look (LyapunovSettings.looks: by another
    t_average, or every look_every), up to t_average (1 + max_extensions) (default
    settings.max_extensions); every look at LyapunovSettings.look_confidence. The
    result carries the final decision ("undecided" if it still is: never a guess) and n_extensions; its t_average is
    the total averaging time. Returns (result, final y).

    checkpoint_path: a checkpoint there from this same run (checkpoint_fingerprint) is
    resumed, one from other settings is ignored with a WARNING (resume). With
    checkpoint_interval > 0 (simulated tau) the whole state is saved there atomically at
    that spacing, and on SIGTERM before exiting; the result is the same bytes however
    often the run was stopped and resumed. The caller removes the file once the output
    is written (write_lyapunov does).
    """
    n_max = settings.max_extensions if max_extensions is None else max_extensions
    if not (isinstance(n_max, (int, np.integer)) and not isinstance(n_max, bool) and n_max >= 0):
        raise ValueError(f"max_extensions: invalid value {n_max!r}; allowed: an integer >= 0")
    every = checkpoint_steps(checkpoint_interval, settings.dt)
    n_step, n_align, n_avg = _interval_counts(settings)
    stepper = _stepper(params, net, settings, seed)
    fingerprint = checkpoint_fingerprint(params, settings, seed, zero_tol, n_max, y0,
                                         stepper.path)
    st = resume(checkpoint_path, fingerprint) if checkpoint_path is not None else None
    if st is None:
        st = SpectrumState.fresh(np.array(y0, dtype=np.float64), _basis(params, stepper, seed),
                                 n_align + n_avg, True)
    else:
        log.info("resumed from checkpoint %s at t = %.2f tau (interval %d, %s; %.1f s of "
                 "earlier attempts)", checkpoint_path, (st.interval * n_step + st.sub_step)
                 * settings.dt, st.interval, phase(st, n_align), st.wall_time_s)
    ckpt = (Checkpointer(checkpoint_path, every, fingerprint, n_step, settings.dt, n_align)
            if checkpoint_path is not None and every else None)
    runner = IntervalRunner(stepper, st, n_step, settings.delta_t, stepper.divergence,
                            progress_every_s=progress_every_s, n_skip=n_align,
                            checkpoints=ckpt)
    with checkpoint_on_sigterm(ckpt):
        if ckpt is not None:
            ckpt.start(runner.step)
        res, decision = run_until_decided(runner, settings, n_align, n_max, zero_tol,
                                           _cycle_checker(params, net, settings))
        if ckpt is not None:
            ckpt.exit_if_terminated(st)
    res = dataclasses.replace(res, decision=decision)
    _log_result(res)
    log.info("decision: %s (lambda_max %.4f +- %.3g, zero_tol %g) after %g tau, %d extension(s)",
             decision, res.lambda_max, res.half_width[0], zero_tol, res.t_average,
             res.n_extensions)
    return res, st.y


@dataclass
class NetworkRun:
    """One network run as rule lyapunov writes it (stdnet.lyapunov.files.write_lyapunov)."""

    result: LyapunovResult
    params: object  # stdnet.model.params.ModelParams
    settings: LyapunovSettings
    seed: int
    observables: dict


def lyapunov_of_simulation(sim: dict, params: ModelParams, section: dict, simulation: dict, seed: int,
                           zero_tol: float, *, checkpoint_path=None, source="simulation"
                           ) -> NetworkRun:
    """Rule lyapunov's run: exponents and chaos decision from a simulation's final state.

    sim: stdnet.simulation.simulate.read_simulation of `source`; params: the run's model
    (stdnet.workflow.runtime.model_params); section, simulation: the config sections `lyapunov` and
    `simulation`. The tangent dynamics is float64 whatever the simulation's precision.
    Checkpoints every lyapunov.checkpoint_interval at checkpoint_path (onset_lyapunov).
    """
    settings = LyapunovSettings.from_config(section, simulation, J0=params.J0, N=params.N)
    y0, observables = simulation_start(sim, params, source)
    res, _ = onset_lyapunov(params, build_network(params, seed), y0, settings, seed,
                            zero_tol=float(zero_tol), checkpoint_path=checkpoint_path,
                            checkpoint_interval=section.get("checkpoint_interval", 0.0))
    return NetworkRun(res, params, settings, seed, observables)
