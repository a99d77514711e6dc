"""J_ch of one network of a heterogeneous ensemble: the onset search of the transition stage
run on that network (rule heterogeneity_onset).

Why here and not in the transition stage: that stage's runs start from the homogeneous
fixed point and its J_FP is the bulk theory's, both of one in-degree. The quantity is the
same, though, and so is its definition: every probe is a run from a perturbed start
(t_transient of RK4, then 20 tau of alignment and t_average of lambda_max with up to
max_extensions continuations while the decision is "undecided",
stdnet.lyapunov.run.onset_lyapunov), judged "chaotic", "not chaotic" or "undecided"
against zero_tol; the bisection (stdnet.onset.search) chooses the probes, and J_ch is the
zero crossing of lambda_max(J0) fitted to every probe (stdnet.onset.estimate, the
"crossing" estimator: no threshold, so no bias that stays at large N). The width of the
transition region of the realization is then J_ch - J_FP with J_FP from its point job
(branch continuation, stdnet.heterogeneity.branch).

The search is serial within one job. After every probe its state is written next to the
output (`partial_path`), with the settings it belongs to, so a job stopped between probes
resumes at the next probe and gives the same file as one uninterrupted run (probes are
deterministic: same network, same seed, same start).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
from pathlib import Path

from stdnet.files.io import write_text
from stdnet.heterogeneity.point import LYAPUNOV_ALIGN
from stdnet.heterogeneity.settings import OnsetSettings
from stdnet.lyapunov.run import LyapunovSettings, onset_lyapunov
from stdnet.model.params import ModelParams, RunParams, format_J0
from stdnet.onset.search import OnsetSearch, Probe, advance, start
from stdnet.simulation.simulate import simulate

log = logging.getLogger("stdnet.heterogeneity.onset")

def lyapunov_settings(s: OnsetSettings, dt: float) -> LyapunovSettings:
    """One exponent (the decision needs lambda_max only: the fused tangent step), aligned as
    in the point jobs."""
    return LyapunovSettings(n_exponents=1, t_align=LYAPUNOV_ALIGN, t_average=s.t_average,
                            max_extensions=s.max_extensions, dt=dt, method="rk4")


def probe_run(s: OnsetSettings, dt: float) -> RunParams:
    """The transient of a probe: t_transient of RK4 (its last step the one recorded
    sample, which nothing reads)."""
    n = s.t_transient / dt
    if not (n >= 2 and abs(n - round(n)) < 1e-9 * n):
        raise ValueError(f"t_transient: invalid value {s.t_transient}; allowed: a whole "
                         f"multiple of heterogeneity.dt ({dt}), at least two steps")
    return RunParams(dt=dt, method="rk4", t_transient=(round(n) - 1) * dt, t_record=dt,
                     record_interval=dt, n_record=0)


def probe(params: ModelParams, net, seed: int, J0: float, s: OnsetSettings, dt: float,
          step: int) -> Probe:
    """One judged run at J0: RK4 from the perturbed homogeneous state for t_transient,
    then lambda_max and its decision."""
    p = params.replace(J0=float(J0))
    sim = simulate(p, probe_run(s, dt), seed, network=net, progress_every_s=30.0)
    res, _ = onset_lyapunov(p, net, sim["final"]["y"], lyapunov_settings(s, dt), seed,
                            zero_tol=s.zero_tol, progress_every_s=30.0)
    periodic = bool(res.cycle.get("found", False))
    n_batches = int(res.n_batches[0]) if len(res.n_batches) else -1
    envelope = bool(res.ci_envelope[0]) if len(res.ci_envelope) else False
    return Probe(J0=float(J0), decision=res.decision,
                 lambda_max=0.0 if periodic else float(res.exponents[0]),
                 half_width=float(res.half_width[0]), step=int(step), n_batches=n_batches,
                 t_average=float(res.t_average), ci_envelope=envelope, periodic=periodic)


def fingerprint(params: ModelParams, seed: int, s: OnsetSettings, dt: float) -> dict:
    """What a partial search belongs to: a state from other settings is not resumed."""
    return {"model": params.to_dict(), "seed": int(seed), "dt": float(dt),
            "settings": dataclasses.asdict(s)}


def _resume(partial_path, fp: dict) -> tuple[list[Probe], OnsetSearch | None]:
    """(grid probes judged so far, the search once started) of a partial file of this
    same run; ([], None) without one."""
    if partial_path is None or not Path(partial_path).exists():
        return [], None
    try:
        doc = json.loads(Path(partial_path).read_text())
        if doc.get("fingerprint") != json.loads(json.dumps(fp)):
            log.warning("partial onset search %s is from other settings; starting afresh",
                        partial_path)
            return [], None
        grid = [Probe(**p) for p in doc["grid"]]
        search = (OnsetSearch.from_json(json.dumps(doc["search"]))
                  if doc.get("search") is not None else None)
    except (ValueError, KeyError, TypeError) as e:
        log.warning("partial onset search %s unreadable (%s); starting afresh", partial_path, e)
        return [], None
    log.info("resuming the onset search from %s: %d grid probes, %d bisection probes done",
             partial_path, len(grid), search.step if search is not None else 0)
    return grid, search


def _save(partial_path, fp: dict, grid: list[Probe], search: OnsetSearch | None) -> None:
    if partial_path is not None:
        doc = {"fingerprint": fp, "grid": [dataclasses.asdict(p) for p in grid],
               "search": None if search is None else json.loads(search.to_json())}
        write_text(partial_path, json.dumps(doc, indent=1, allow_nan=True))


def search_onset(params: ModelParams, net, seed: int, s: OnsetSettings, dt: float, *,
                 partial_path=None) -> OnsetSearch:
    """The whole search of one network: grid probes at s.J0, then bisection to
    s.resolution. params: the ensemble's model (any J0). With partial_path, every judged
    probe is saved there and a partial search of the same run is resumed."""
    fp = fingerprint(params, seed, s, dt)
    grid, search = _resume(partial_path, fp)
    if search is None:
        for J0 in s.J0[len(grid):]:
            grid.append(probe(params, net, seed, J0, s, dt, 0))
            log.info("grid probe J0=%s: %s (lambda_max %.4f +- %.4f)", format_J0(J0),
                     grid[-1].decision, grid[-1].lambda_max, grid[-1].half_width)
            _save(partial_path, fp, grid, None)
        search = start(params.N, seed, grid, s.resolution, s.undecided)
        _save(partial_path, fp, grid, search)
    while (J0 := search.next_probe()) is not None:
        pr = probe(params, net, seed, J0, s, dt, search.step + 1)
        search = advance(search, pr)
        log.info("probe %d at J0=%s: %s (lambda_max %.4f +- %.4f); bracket [%s, %s], %s",
                 search.step, format_J0(J0), pr.decision, pr.lambda_max, pr.half_width,
                 search.lo, search.hi, search.status)
        _save(partial_path, fp, grid, search)
    est = search.estimate()
    log.info("onset search %s: J_ch = %.4f (%s, [%.4f, %.4f]), demonstrated %.4f",
             search.status, est["J_ch"], est["J_ch_method"], est["J_ch_ci_lo"],
             est["J_ch_ci_hi"], search.J_ch if math.isfinite(search.J_ch) else math.nan)
    return search
