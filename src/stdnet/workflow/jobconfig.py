"""The checks the workflow's jobs make on their config values, made once before any job.

A job refuses a value it cannot run with (a J_FP bracket narrower than its tolerance, a
network size that leaves a population without inputs, a sampling interval that is not a
whole number of steps); found there, after hours of simulations, it is a failed job. Each
check here calls the function the job calls, at every value the selected stages will use
(stdnet.workflow.plan), so `stdnet check` and the workflow's start refuse the same config
with the key named (stdnet.workflow.config.validate_config runs them).
"""
from __future__ import annotations

from stdnet.correlations.recording import recording_run
from stdnet.dmf.settings import DMFSettings, solver_config_problems
from stdnet.model.params import ModelParams, RunParams
from stdnet.stability.jfp import check_search_settings, jfp_method
from stdnet.stability.jfp_matrix_free import check_eigen_count
from stdnet.stability.routes import route_eigen_method
from stdnet.stability.runs import short_run_params
from stdnet.theory.fixed_point_curves import theory_sizes
from stdnet.theory.meanfield import balanced_limit_problem
from stdnet.workflow.plan import SweepPlan


def job_config_problems(cfg: dict) -> list[str]:
    """Every value of a schema-valid config that some job of its selected stages would
    refuse, one message each ("config key '<key>': ...")."""
    plan = SweepPlan(cfg)
    problems = _plan_problems(plan)
    if problems:  # the sizes below come from the plan
        return problems
    problems = _model_problems(cfg, plan)
    if problems:  # the rest builds the model
        return problems
    return (_jfp_problems(cfg, plan) + _stability_problems(cfg, plan)
            + _balanced_limit_problems(cfg, plan) + _recording_problems(cfg, plan)
            + _dmf_problems(cfg, plan) + _heterogeneity_problems(cfg, plan))


def _plan_problems(plan: SweepPlan) -> list[str]:
    """What the rule files check while Snakemake parses them (a Python traceback there)."""
    out = []
    for check in (plan.check_jfp_methods, lambda: plan.dmf):
        try:
            check()
        except ValueError as e:  # the messages name the config key
            out.append(str(e))
    return out


def model_sizes(cfg: dict, plan: SweepPlan) -> list[tuple[str, int]]:
    """(key, N) of every network size the selected stages build a model at, the first key
    that sets each N."""
    stages = plan.stages
    sizes = [("grid.N", n) for n in plan.grid_N]
    if plan.records_inputs:
        sizes += [("correlations.runs N", n) for n, _, _ in plan.correlation_grid]
    if plan.runs_jfp_search:
        sizes += [("stability.jfp.N", n) for n in plan.jfp_sizes]
    if "stability" in stages:
        stab = cfg["stability"]
        sizes += [("stability.homogeneous.N", n) for n in stab["homogeneous"]["N"]]
        sizes += [("stability.homogeneous.map_N", plan.map_size),
                  ("stability.routes.N", plan.routes_size),
                  ("stability.hetfp.N", stab["hetfp"]["N"])]
    if "figures" in stages:
        N_range = cfg["figures"]["fig2"]["N_theory"]
        sizes += [("figures.fig2.N_theory", n) for n in theory_sizes(N_range)]
    first: dict = {}
    for key, n in sizes:
        first.setdefault(int(n), key)
    return [(key, n) for n, key in first.items()]


def _model_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """The model at every size: one message per key, at its smallest N refused."""
    refused: dict = {}
    for key, N in sorted(model_sizes(cfg, plan), key=lambda kn: kn[1]):
        try:
            ModelParams.from_config(cfg.get("model", {}), N=N, J0=1.0)
        except ValueError as e:
            refused.setdefault(key, []).append((N, e))
    out = []
    for key, bad in refused.items():
        more = f" (and {len(bad) - 1} more of its sizes)" if len(bad) > 1 else ""
        out.append(f"config key 'model' with {key} = {bad[0][0]}{more}: {bad[0][1]}")
    return out


def _jfp_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """The J_FP search's bracket, and its eigenvalue count at the matrix-free sizes."""
    if not plan.runs_jfp_search:
        return []
    jfp = cfg["stability"]["jfp"]
    try:
        check_search_settings(jfp["J0_range"], jfp["step"], jfp["tol"])
        for N in plan.jfp_sizes:
            if jfp_method(jfp["method"], N, jfp["dense_max_N"]) == "matrix_free":
                check_eigen_count(ModelParams.from_config(cfg["model"], N=N, J0=1.0), jfp["k"])
    except ValueError as e:
        return [_keyed("stability.jfp", e)]
    return []


def _stability_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """The routes' spectra at their N; the short runs of the routes and of the
    heterogeneous fixed point with simulation.dt."""
    if "stability" not in plan.stages:
        return []
    out = []
    try:
        route_eigen_method(plan.routes_size)
    except ValueError as e:  # "N: invalid value ...; allowed: ..."
        N = plan.routes_size
        value = N if cfg["stability"]["routes"]["N"] else f"null (the smallest J_FP size, {N})"
        out.append(f"config key 'stability.routes.N': value {value} is not allowed; allowed: "
                   + str(e).partition("allowed: ")[2])
    sim = cfg["simulation"]
    for key in ("routes", "hetfp"):
        t_sim = cfg["stability"][key]["t_sim"]
        try:
            short_run_params(t_sim, sim["dt"], sim["method"])
        except ValueError as e:
            out.append(f"config key 'stability.{key}.t_sim': value {t_sim!r} is not allowed "
                       f"with simulation.dt = {sim['dt']} ({e})")
    return out


def _balanced_limit_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """The N -> inf limit: the dashed lines of Fig 2 (stage figures), the DMF of
    dmf.finite_K: false (stage dmf)."""
    users = (["stage figures (Fig 2's N -> inf lines)"] if "figures" in plan.stages else []) \
        + (["dmf.finite_K: false"] if "dmf" in plan.stages and not cfg["dmf"]["finite_K"]
           else [])
    if not users:
        return []
    problem = balanced_limit_problem(
        ModelParams.from_config(cfg.get("model", {}), N=plan.grid_N[0], J0=1.0))
    if problem is None:
        return []
    key, _, why = problem.partition(": ")
    return [f"config key 'model.{key}': {why}, needed by {' and '.join(users)}"]


def _recording_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """The continuation runs of the input recordings (stages correlations, dmf)."""
    if not plan.records_inputs:
        return []
    c = cfg["correlations"]
    try:
        recording_run(RunParams.from_config(cfg["simulation"]), c["t_measure"],
                      c["sample_interval"])
    except ValueError as e:  # "correlations.<key>: ..."
        key, _, why = str(e).partition(": ")
        return [f"config key '{key}': {why}"]
    return []


def _dmf_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """dmf.solver as the dmf_solve jobs read it (DMFSettings.from_config): the lag window at
    least 2 model.tau_D, within [4 dt, t_path / 2] (stage dmf)."""
    if "dmf" not in plan.stages:
        return []
    solver, tau_D = cfg["dmf"]["solver"], cfg["model"]["tau_D"]
    problems = solver_config_problems(solver, tau_D)  # each names its key
    if problems:
        return problems
    try:
        DMFSettings.from_config(solver, tau_D=tau_D)
    except ValueError as e:  # "config key 'dmf.solver.<key>': ..."
        return [str(e)]
    return []


def _heterogeneity_problems(cfg: dict, plan: SweepPlan) -> list[str]:
    """Every ensemble's model at every size of the stage; the onset search's ensembles and
    its probes' run lengths with the stage's dt."""
    if not plan.heterogeneity_points:
        return []
    from stdnet.heterogeneity.onset import lyapunov_settings, probe_run
    from stdnet.heterogeneity.settings import OnsetSettings, ensemble_params

    h = cfg["heterogeneity"]
    out = []
    for ens in h["ensembles"]:
        for N in sorted(h["N"]):
            try:
                ensemble_params(cfg["model"], h, ens, N, h["J0_stationary"])
            except ValueError as e:
                out.append(f"config key 'heterogeneity.ensembles.{ens}' with heterogeneity.N "
                           f"= {N}: {e}")
                break
    onset = OnsetSettings.from_config(h)
    unknown = [e for e in onset.ensembles if e not in h["ensembles"]]
    if unknown:
        out.append(f"config key 'heterogeneity.onset.ensembles': value {unknown} is not "
                   f"allowed; allowed: names of heterogeneity.ensembles ({', '.join(h['ensembles'])})")
    if plan.heterogeneity_onsets:
        try:
            probe_run(onset, h["dt"])
        except ValueError as e:
            out.append(_keyed("heterogeneity.onset", e))
        try:
            lyapunov_settings(onset, h["dt"])
        except ValueError as e:
            why = str(e).partition(": ")[2].replace("lyapunov.delta_t", "the QR interval")
            out.append(f"config key 'heterogeneity.onset.t_average': {why}")
    return out


def _keyed(section: str, e: Exception) -> str:
    """'config key '<section>.<key>': ...' from a '<key>: ...' message."""
    key, _, why = str(e).partition(": ")
    return f"config key '{section}.{key}': {why}"
