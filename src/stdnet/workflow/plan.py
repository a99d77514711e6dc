"""The sweep of a config, expanded once: every point the workflow simulates or solves, and
where each point's files lie.

`SweepPlan(config)` takes a validated config (stdnet.workflow.config) to the lists that
the rule files (workflow/rules/*.smk), the cost model (stdnet.workflow.costmodel), the
checks before work (stdnet.workflow.preflight) and `stdnet status` all read, so that no
two of them can disagree on which jobs a sweep has:

    grid               (N, J0, seed) of grid.N x grid.J0 x grid.seeds, in that order
    jfp_sizes          N of the J_FP searches: stability.jfp.N, else the grid N that the
                       solver stability.jfp.method takes (the dense ones stop at
                       JFP_DENSE_N_MAX); jfp_seeds: stability.jfp.seeds, else grid.seeds
    spectrum_sizes     the J_FP sizes that the dense fixed-J0 spectra take (<= DENSE_N_MAX)
    routes_size, map_size  N of the routes figure and of the homogeneous modes' map
    correlation_grid   (N, J0, seed) of the input recordings: correlations.J0 (else the
                       grid J0 >= correlations.J0_min) at the (N, seeds) blocks of
                       correlations.runs (else the grid's)
    grid_and_recordings  the grid's points and the recordings', sorted (the simulations the
                       DMF is compared with)
    dmf                the DMF solves (stdnet.dmf.points.DMFPlan)
    simulated_points   N -> the J0 simulated at N by the selected stages (the step-size
                       check: grid, recordings, the heterogeneous fixed point's runs)
    point_outputs      (rule, file, points) of every per-point output the selected stages
                       write into run folders (`stdnet status`, missing files redone)
    heterogeneity_points  (ensemble, N, seed) of the heterogeneity stage's networks, each
                       in its folder HETEROGENEITY_DIR
    heterogeneity_onsets  those of them whose J_ch is searched (heterogeneity.onset)

J0 (and I0) are the canonical strings of the file names (stdnet.model.params.format_J0).
The run-folder layout is defined here too: RUN_DIR (one point's per-point outputs) and
POINT (a point's name in the file names of its logs and benchmarks); `point_specs` turns
the rules' path patterns into the per-point specs of the run-status table.

Plain Python on the config (no pandas, nothing numerical): the workflow expands its jobs
with it while Snakemake parses the rule files.
"""
from __future__ import annotations

import itertools
import re
from functools import cached_property

from stdnet.dmf.points import DMFPlan, dmf_plan
from stdnet.heterogeneity.settings import OnsetSettings
from stdnet.model.params import format_J0
from stdnet.stability.jfp import JFP_DENSE_N_MAX, jfp_method
from stdnet.stability.spectrum import DENSE_N_MAX

# ---- the run-folder layout (the workflow's rules write these paths) --------------------
#: the folder of one grid point's per-point outputs
RUN_DIR = "{results}/N~{N}/J0~{J0}/seed~{seed}"
#: a grid point's name in the file names of per-point logs and benchmarks
POINT = "N~{N}_J0~{J0}_seed~{seed}"


#: the folder of one network of the heterogeneity stage (outside the grid's run folders:
#: its networks are named by ensemble, and each job measures several J0)
HETEROGENEITY_DIR = "{results}/heterogeneity/{ensemble}/N~{N}/seed~{seed}"


def heterogeneity_dir(results, ensemble, N, seed) -> str:
    return HETEROGENEITY_DIR.format(results=results, ensemble=ensemble, N=N, seed=seed)


def run_dir(results, N, J0, seed) -> str:
    """The run folder of one grid point; with N, J0, seed = "{N}", "{J0}", "{seed}" the
    pattern of every run folder."""
    return RUN_DIR.format(results=results, N=N, J0=J0, seed=seed)


def point_name(N, J0, seed) -> str:
    """A grid point's name in its log and benchmark file names; with "{N}", "{J0}",
    "{seed}" the pattern."""
    return POINT.format(N=N, J0=J0, seed=seed)


def by_J0(point) -> tuple:
    """Sort key of (N, J0, seed) with J0 a number (the string "10" after "9.5")."""
    return point[0], float(point[1]), point[2]


class SweepPlan:
    """The points of a validated config (module docstring). Each list is computed on first
    use, so a caller pays only for what it reads."""

    def __init__(self, config: dict):
        self.config = config
        g = config["grid"]
        self.grid_N = [int(n) for n in g["N"]]
        self.grid_J0 = [format_J0(j) for j in g["J0"]]
        self.grid_seeds = [int(s) for s in g["seeds"]]
        self.grid = list(itertools.product(self.grid_N, self.grid_J0, self.grid_seeds))
        self.stages = set(config.get("stages", ()))

    # -- stability ----------------------------------------------------------------------
    @cached_property
    def jfp_sizes(self) -> list:
        jfp = self.config["stability"]["jfp"]
        limit = JFP_DENSE_N_MAX.get(jfp["method"])
        return [int(n) for n in (jfp["N"] or [n for n in self.grid_N
                                              if limit is None or n <= limit])]

    @cached_property
    def jfp_seeds(self) -> list:
        return [int(s) for s in (self.config["stability"]["jfp"]["seeds"] or self.grid_seeds)]

    @cached_property
    def spectrum_sizes(self) -> list:
        return [N for N in self.jfp_sizes if N <= DENSE_N_MAX]

    @property
    def runs_jfp_search(self) -> bool:
        """Whether the selected stages search J_FP (stability; transition with
        jfp_source auto, which reads the stability stage's table)."""
        return "stability" in self.stages or (
            "transition" in self.stages
            and self.config.get("transition", {}).get("jfp_source") == "auto")

    @property
    def routes_size(self) -> int:
        """N of the routes figure: stability.routes.N, else the smallest J_FP size."""
        n = self.config["stability"]["routes"]["N"]
        return int(n or min(self.jfp_sizes, default=min(self.grid_N)))

    @property
    def map_size(self) -> int:
        """N of the (J0, I0) map of the homogeneous modes: stability.homogeneous.map_N,
        else the largest grid N."""
        return int(self.config["stability"]["homogeneous"]["map_N"] or max(self.grid_N))

    def check_jfp_methods(self) -> None:
        """ValueError naming stability.jfp.method or dense_max_N where the J_FP searches or
        the fixed-J0 spectra cannot take one of their sizes (a dense solver above its
        largest N), or where the dense solver takes no grid N at all (nothing to search)."""
        jfp = self.config["stability"]["jfp"]
        if not self.jfp_sizes:
            raise ValueError(f"config key 'stability.jfp.method': value {jfp['method']!r} takes "
                             f"none of grid.N {self.grid_N} (dense matrices up to N = "
                             f"{JFP_DENSE_N_MAX[jfp['method']]}); allowed: 'auto' or "
                             "'matrix_free', or stability.jfp.N")
        jobs = [(jfp["method"], N) for N in self.jfp_sizes]
        jobs += [("auto", N) for N in self.spectrum_sizes]  # jacobian_spectrum's choice
        for method, N in jobs:
            try:
                jfp_method(method, N, jfp["dense_max_N"])
            except ValueError as err:
                key, _, why = str(err).partition(": ")
                raise ValueError(f"config key 'stability.jfp.{key}' (J_FP sizes "
                                 f"{self.jfp_sizes}): {why}") from None

    # -- correlations and DMF -------------------------------------------------------------
    @cached_property
    def correlation_J0(self) -> list:
        c = self.config["correlations"]
        return sorted({format_J0(j) for j in c["J0"]}, key=float) or [
            j for j in self.grid_J0 if float(j) >= c["J0_min"]]

    @cached_property
    def correlation_grid(self) -> list:
        blocks = self.config["correlations"]["runs"] or [{"N": self.grid_N,
                                                          "seeds": self.grid_seeds}]
        return sorted({(int(N), J0, int(s)) for b in blocks for N in b["N"]
                       for s in b["seeds"] for J0 in self.correlation_J0}, key=by_J0)

    @cached_property
    def grid_and_recordings(self) -> list:
        return sorted(set(self.grid) | set(self.correlation_grid), key=by_J0)

    @cached_property
    def dmf(self) -> DMFPlan:
        return dmf_plan(self.config, self.grid_and_recordings)

    @property
    def records_inputs(self) -> bool:
        """Whether the selected stages record inputs (correlations, dmf)."""
        return bool(self.stages & {"correlations", "dmf"})

    @property
    def runs_lyapunov(self) -> bool:
        """Whether the selected stages compute the grid's exponents (lyapunov, onset,
        transition)."""
        return bool(self.stages & {"lyapunov", "onset", "transition"})

    # -- every simulation -----------------------------------------------------------------
    def simulated_points(self) -> dict:
        """N -> the set of J0 (floats) simulated at N with simulation.dt: the grid, the
        correlation recordings (stages correlations, dmf) and the heterogeneous fixed
        point's runs (stage stability)."""
        pts: dict = {}
        for N in self.grid_N:
            pts.setdefault(N, set()).update(float(j) for j in self.config["grid"]["J0"])
        if self.records_inputs and "correlations" in self.config:
            for N, J0, _ in self.correlation_grid:
                pts.setdefault(N, set()).add(float(J0))
        het = self.config.get("stability", {}).get("hetfp")
        if "stability" in self.stages and het is not None:
            pts.setdefault(int(het["N"]), set()).update(float(j) for j in het["J0"])
        return pts

    @cached_property
    def heterogeneity_points(self) -> list[tuple[str, int, int]]:
        """(ensemble, N, seed) of the heterogeneity stage's networks (none unless selected)."""
        if "heterogeneity" not in self.stages:
            return []
        h = self.config["heterogeneity"]
        return list(itertools.product(h["ensembles"], h["N"], h["seeds"]))

    @cached_property
    def heterogeneity_onsets(self) -> list[tuple[str, int, int]]:
        """(ensemble, N, seed) of the networks whose J_ch is searched (heterogeneity.onset:
        its ensembles, N up to its N_max)."""
        if not self.heterogeneity_points:
            return []
        onset = OnsetSettings.from_config(self.config["heterogeneity"])
        return [(e, N, s) for e, N, s in self.heterogeneity_points if onset.searched(e, N)]

    def point_outputs(self) -> list[tuple[str, str, list]]:
        """(rule, file name, points) of every per-point output that the selected stages
        write into the run folders: simulation.h5 at the grid (and at the recordings' points
        when inputs are recorded), lyapunov.h5 at the grid (stages lyapunov, onset,
        transition), inputs.h5 at the recordings' points (stages correlations, dmf). Onset
        probes off the grid are their searches' business."""
        sims = self.grid_and_recordings if self.records_inputs else self.grid
        out = [("simulate", "simulation.h5", sims)]
        if self.runs_lyapunov:
            out.append(("lyapunov", "lyapunov.h5", self.grid))
        if self.records_inputs:
            out.append(("record_inputs", "inputs.h5", self.correlation_grid))
        return out


# ---- per-point specs of the run-status table ----------------------------------------
def point_spec(results, rule: str, output: str) -> dict:
    """The status spec of a per-point output `output` (a file name in the run folder) of
    `rule`, with its log and benchmark where the workflow's rules put them:
    {results}/logs/<rule>/<point>.log, {results}/benchmarks/<rule>/<point>.tsv."""
    point = point_name("{N}", "{J0}", "{seed}")
    return {"rule": rule, "output": f"{run_dir(results, '{N}', '{J0}', '{seed}')}/{output}",
            "log": f"{results}/logs/{rule}/{point}.log",
            "benchmark": f"{results}/benchmarks/{rule}/{point}.tsv"}


def _plain(pattern) -> str:
    """A path pattern without wildcard constraints ({N,\\d+} -> {N})."""
    return re.sub(r"\{(\w+),[^}]*\}", r"{\1}", str(pattern))


def point_specs(rules, results) -> list[dict]:
    """The status specs of every output that a rule writes directly into a run folder
    (run_dir) of the results folder `results`.

    rules: one dict per rule with its path patterns as the workflow declares them:
    'rule' (name), 'outputs' (list), 'log' and 'benchmark' ("" where none); wildcard
    constraints ({N,\\d+}) are dropped."""
    prefix = f"{run_dir(results, '{N}', '{J0}', '{seed}')}/"
    specs = []
    for r in rules:
        for out in r["outputs"]:
            out = _plain(out)
            if out.startswith(prefix) and "{" not in out[len(prefix):]:
                log, bench = r.get("log"), r.get("benchmark")
                specs.append({"rule": r["rule"], "output": out,
                              "log": _plain(log) if log else "",
                              "benchmark": _plain(bench) if bench else ""})
    return specs
