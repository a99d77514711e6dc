"""Cost model of the workflow's heavy rules: expected core-seconds and peak memory of one job,
and the SLURM requests (`runtime` in minutes, `mem_mb`) that the rules ask for.

Each rule's work is counted in the unit its inner loop pays for, at a rate measured on the
development machine (one core of a 2.3 GHz Xeon; docs/cluster.md, "Resources of every job:
the cost model", lists where each constant comes from and compares the model with the
benchmark files):

    simulate           N K (t_transient + t_record) / dt synapse terms       / SYN_RATE
    lyapunov           N K (t_align + t_average) / dt x tangent_cost(m)       / SYN_RATE
                       (worst case: + every extension, + N K cycle_check / dt)
    record_inputs      N K t_measure / dt                                    / SYN_RATE
    (each step of simulation.method priced at METHOD_STEP_COST RK4 steps)
    jfp_search         jfp_products(N) x (JFP_PRODUCT_S + N K / MATVEC_RATE)
    jacobian_spectrum  J0 x targets x (N / 1000)^3 x SPECTRUM_S_PER_GN3
    stability_routes        2 crossings x (2 dense eig + a run of t_sim)
    hetfp_compare      J0 x (a run of t_sim + Newton and eigenvalues) + theory
    dmf_solve          iterations x 2 populations x paths x embedding length  / DMF_RATE
    correlations       recordings x sampled targets x samples x (surrogates + 1) / CORR_RATE
    dmf_compare        files read x COMPARE_S_PER_FILE

with K = K_E + K_I (SYN_RATE_DRAM where the index pattern exceeds PATTERN_CACHE_BYTES;
tangent_cost is the fused step's measured cost for m <= kernels.tangent_narrow.NARROW_MAX, else
one pass per chunk of 8 tangent vectors). The expected cost takes the typical number of
Lyapunov extensions and DMF iterations; the requests take the worst case (every extension,
dmf.solver.max_iter), times RUNTIME_SAFETY (slower or shared cluster cores), plus
JOB_STARTUP_S, and double with every attempt (Snakemake's `attempt`, 1 on the first
submission): a job killed at its time limit comes back with twice the time. Memory
requests grow by MEM_GROWTH per attempt.

Why one module of ~530 lines: it is one table, rule by rule, of what a job costs, and a
third of it is the calibrated constants with where each was measured (docs/cluster.md
follows them line by line). The per-rule cost functions, the request policy and the
sweep all read the same constants and the same CostModel (the requests of a rule are
its costs x the policy), so splitting them would scatter one calibration over modules
that are always read together.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from stdnet.dmf.settings import DMFSettings
from stdnet.kernels.tangent_narrow import record_width
from stdnet.lyapunov.run import spectrum_run
from stdnet.lyapunov.tangent import tangent_path
from stdnet.model.params import ModelParams, RunParams
from stdnet.onset.search import max_probes
from stdnet.stability.jfp import jfp_memory_mb
from stdnet.stats.gaussian_paths import embedding_size
from stdnet.workflow.plan import SweepPlan

# ---- calibrated rates (one core; docs/cluster.md) -----------------------------------
#: synapse terms per second in one RK4 step (4 vector-field evaluations) while the index
#: pattern fits a core's share of the cache: stdnet bench on a quiet machine 2.75-3.3 Gsyn/s
#: = 6.9-8.3e8 per RK4 step for N = 2e3-1e4 (docs/performance.md); the width study's
#: simulations 7.7e8 at N = 4000 (benchmark wall, shared cores)
SYN_RATE = 7.0e8
#: the same on the GPU (simulation.backend: cuda) -- NOT MEASURED: an assumption until
#: `stdnet bench --backend cuda` has run on the cluster's GPUs. An H200 streams the 2-byte
#: indices at most at 4.8e12 / (4 evaluations x 2 bytes) = 6e11 synapse terms per second
#: of RK4 steps; this assumes 5 % of that, so that the runtime requests err long.
GPU_SYN_RATE = 3.0e10
#: the same once the pattern streams from memory: stdnet bench 2.25-2.28 Gsyn/s at N = 2e4
#: and 4e4; the correlation study's N = 2e4 simulation 5.4e8 (CPU time; 4.1e8 wall on
#: shared cores)
SYN_RATE_DRAM = 5.6e8
#: cost of one chunk of up to 8 tangent vectors, in trajectory steps: stdnet bench, m = 8:
#: 3.3-3.7 trajectory steps per tangent step for N <= 2e4; width study (m = 2) 2.9-3.0
TANGENT_CHUNK = 2.4
#: the same where the index pattern no longer fits a core's share of the cache (N = 4e4 on
#: the development machine: 5.2 trajectory steps per m = 8 tangent step)
TANGENT_CHUNK_DRAM = 4.2
#: the fused tangent step (stdnet.kernels.tangent_narrow, which TangentStepper takes for m <=
#: NARROW_MAX): trajectory steps per step of the trajectory and its m tangents, by record
#: width (2: m = 1; 4: m = 2, 3; m = 3 is not measured and priced as m = 2). Measured with
#: `NUMBA_NUM_THREADS=1 stdnet bench --N 10000 40000 --threads 1 --m 1 2 8 --tangent-block
#: --repeats 5` (an AMD EPYC with 8 MiB L3, not the Xeon above, 2026-12-05;
#: docs/performance.md, "Narrow tangent step"): N = 1e4 (20 MB of indices) m = 1: 1.28,
#: m = 2: 1.33, where the block path took 3.63 (m = 1, 2) and 3.68 (m = 8) in the same run
TANGENT_FUSED = {2: 1.28, 4: 1.33}
#: the same past PATTERN_CACHE_BYTES: N = 4e4 (320 MB) m = 1: 1.26, m = 2: 1.48; block
#: path 4.51, 4.47 (m = 1, 2) and 4.44 (m = 8)
TANGENT_FUSED_DRAM = {2: 1.26, 4: 1.48}
#: cost of one step of simulation.method in RK4 steps: Euler is one pass over the synapses
#: of RK4's four; ETD4 (stdnet.kernels.etd4) makes RK4's four passes plus O(N) population means
#: and combinations: 1.22 RK4 steps at N = 2000, 0.98-1.06 at N = 1e4-4e4, the fused
#: tangent step as RK4's within the noise (one thread, AMD EPYC, 2026-12-06;
#: docs/performance.md); 1.15 errs long where the cost is
METHOD_STEP_COST = {"rk4": 1.0, "euler": 0.25, "etd4": 1.15}
#: pattern size above which SYN_RATE_DRAM and TANGENT_*_DRAM apply: a node's L3 is
#: shared by its jobs (N = 2e4 at c = 0.1 has 80 MB)
PATTERN_CACHE_BYTES = 64 * 2 ** 20
#: share of lyapunov.max_extensions that a run uses on average (width study: 1.3 of 4 over
#: 305 runs, bisection probes near the onset included)
LYAP_EXTENSION_SHARE = 0.3
#: J_FP search (matrix-free Krylov-Schur): one Jacobian product costs JFP_PRODUCT_S of
#: Python and orthogonalisation plus one pass over the N K synapses at MATVEC_RATE
#: (width study N = 1000-4000: 0.95-1.45 ms per product)
JFP_PRODUCT_S = 0.9e-3
MATVEC_RATE = 3.0e9
#: products of one search: ~950 at N = 1000, ~1520 at N = 4000 (width study logs),
#: 2300-2600 at N = 1e4 and 8700 at N = 4e4 (earlier runs)
JFP_PRODUCTS_BASE = 800
JFP_PRODUCTS_PER_NEURON = 0.2
#: dense shift-invert eigenvalues (jacobian_spectrum): seconds per target and J0 for an
#: N = 1000 network, growing like N^3 (complex LU of the N x N Schur complement); default
#: run: 1.1 s per target at N = 2000
SPECTRUM_S_PER_GN3 = 0.15
#: dense eig of the (N + N_E)-dimensional Jacobian (stability_routes, N <= 1500), per 1000^3
#: (default run: stability_routes 45 s, four eig of dimension 1800 and two short runs)
DENSE_EIG_S_PER_GDIM3 = 1.5
#: hetfp_compare: Newton polish, eigenvalues and theory curves at N = 1000 per J0 (s)
#: (default run: 34 s for three J0 on shared cores)
HETFP_EXTRA_S = 5.0
#: one Newton solve of a stationary state with its rightmost eigenvalue at N = 1000, ~N^3
#: (dense LU of the N x N Schur complement): 4 s at N = 2000 measured (cv0.1, 17 solves in
#: 68 s, the machine shared)
HET_NEWTON_S = 0.5
#: one solve of the quenched stationary theory (gamma in-degrees on 24 x 24 nodes, 48 noise
#: nodes: 0.07 s measured; 280 phase-diagram solves took 18 s with the machine shared)
HET_THEORY_S = 0.1
#: dmf_solve: path samples per second (2 populations x paths x embedding length per
#: iteration: FFT synthesis, unit traces, mean-equation Newton, autocovariances); default
#: run: 0.16-0.3 s per iteration of 2 x 500 x 2048 samples on shared cores; paper size
#: (2 x 2000 x 4096): 1.8 s per iteration
DMF_RATE = 1.0e7
#: float64 arrays of 2 x paths x embedding length alive at once (noise, paths, traces):
#: peak RSS 268 MB at the default size, 824 MB at the paper size
DMF_ARRAYS = 5
#: share of dmf.solver.max_iter that a solve takes on average (default run: 14-40
#: iterations of 40, mean 29)
DMF_ITER_SHARE = 0.7
#: correlations: target-samples per second, surrogates included (default run: 53 s for 12
#: recordings of 800 targets x 800 samples with 100 surrogates, on shared cores)
CORR_RATE = 2.0e7
#: dmf_compare: seconds per simulation or recording file read and compared (default run:
#: 11 s for 42 simulations and 12 recordings)
COMPARE_S_PER_FILE = 0.2
#: dmf_compare reads the autocovariances of every recording and keeps the h traces (one of
#: the three big arrays of a recording) of those at the figure's N: their size x
#: COMPARE_MEM_FACTOR, plus FIGURE_MB for matplotlib
COMPARE_MEM_FACTOR = 1.4
FIGURE_MB = 150.0
#: start-up of a job on a warm machine: python, imports, numba cache (benchmark wall minus
#: the scripts' own timers: 1-2 s)
EXPECTED_STARTUP_S = 1.5
#: a lyapunov job starts up for longer: it reads the simulation, rebuilds the network and
#: loads the tangent kernels (the ETD4 width study, N = 1000: 4.4 s of CPU time besides
#: its 0.4 s of integration at machine speed 0.56, i.e. 2.5 s at speed 1; docs/cluster.md)
LYAPUNOV_STARTUP_S = 2.5

# ---- memory (MB) --------------------------------------------------------------------
#: resident size of a job before its arrays: python, numpy, scipy, numba, h5py (the width
#: study's simulations: 200-204 MB at N <= 4000; lyapunov jobs 254-257 MB)
BASE_MB = 210.0
LYAP_BASE_MB = 260.0
#: tangent scratch per neuron and exponent (lyapunov): about 20 vectors of N + N_E doubles
#: per column, at least 8 columns (one SIMD chunk)
TANGENT_VECTORS = 20

# ---- requests -----------------------------------------------------------------------
#: requested time = JOB_STARTUP_S + RUNTIME_SAFETY x worst-case work, at least
#: RUNTIME_FLOOR_MIN; cluster cores may be slower than the calibration machine, or shared
RUNTIME_SAFETY = 2.0
#: start-up allowance of a cluster job (cold file-system caches, numba cache load) (s)
JOB_STARTUP_S = 60.0
RUNTIME_FLOOR_MIN = 5
#: speed-up per thread of the numba prange kernels beyond one thread (measured 0.9-0.95 at
#: 2 threads, docs/performance.md; assumed lower at 8)
PARALLEL_EFFICIENCY = 0.7
#: threads of a job whose kernels are parallel: the fewest of THREAD_CHOICES that bring its
#: first-attempt request under TARGET_RUNTIME_MIN (common partition limits are 1-3 days)
THREAD_CHOICES = (1, 2, 4, 8, 16)
TARGET_RUNTIME_MIN = 24 * 60
#: requested memory = max(MEM_FLOOR_MB, MEM_SAFETY x expected peak), x MEM_GROWTH per retry
MEM_SAFETY = 1.5
MEM_FLOOR_MB = 1000
MEM_GROWTH = 1.5

#: the rules the model knows; the others are seconds of work and run on the submit host
RULES = ("simulate", "lyapunov", "record_inputs", "jfp_search", "jacobian_spectrum",
         "stability_routes", "hetfp_compare", "dmf_solve", "correlations", "dmf_compare",
         "heterogeneity_point", "heterogeneity_onset", "heterogeneity")


@dataclass(frozen=True)
class JobCost:
    """One job: expected and worst-case seconds on one core, expected peak memory (MB)."""

    seconds: float
    worst_seconds: float
    mem_mb: float
    threaded: bool = False  # numba prange kernels: threads shorten it
    gpus: int = 0  # GPUs the job runs its kernels on (simulation.backend: cuda)


# ---- work units ---------------------------------------------------------------------
def positive_int(key: str, value) -> int:
    """value, if it is an integer > 0; ValueError naming `key` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int,)) or value <= 0:
        raise ValueError(f"{key}: value {value!r} is not allowed; allowed: an integer > 0")
    return value


def synapse_seconds(N: int, K_total: int, steps: float, pattern: int = 0,
                    gpu: bool = False, cache: int = PATTERN_CACHE_BYTES) -> float:
    """Seconds of `steps` RK4 steps of a network of N neurons with K_total inputs each
    (`pattern` bytes of indices: the slower rate once they no longer fit the `cache` bytes
    a job may fill; on a GPU GPU_SYN_RATE)."""
    if gpu:
        return N * K_total * steps / GPU_SYN_RATE
    rate = SYN_RATE_DRAM if pattern > cache else SYN_RATE
    return N * K_total * steps / rate


def recording_bytes(N_E: int, N_I: int, run) -> int:
    """The recorded buffers of one simulation (run: RunParams): per sample, the 5 population
    means and the h and nu traces of n_record neurons per population, x of the E ones."""
    n_E, n_I = min(run.n_record, N_E), min(run.n_record, N_I)
    samples = run.total_steps // run.steps_per_record + 1
    return samples * (5 + 2 * (n_E + n_I) + n_E) * 8


def pattern_bytes(N: int, K_total: int, N_E: int, N_I: int) -> int:
    """The index pattern: uint16 indices up to 65536 neurons per population, else uint32."""
    return N * K_total * (2 if max(N_E, N_I) <= 65536 else 4)


def tangent_cost(m: int, pattern: int, cache: int = PATTERN_CACHE_BYTES) -> float:
    """Trajectory steps per tangent step with m vectors, on the path TangentStepper takes:
    the fused step's measured cost (m <= NARROW_MAX), else one pass per chunk of 8 (the
    slower costs once the `pattern` bytes exceed `cache`)."""
    dram = pattern > cache
    if tangent_path(m) == "fused":
        return (TANGENT_FUSED_DRAM if dram else TANGENT_FUSED)[record_width(m)]
    return 1.0 + (TANGENT_CHUNK_DRAM if dram else TANGENT_CHUNK) * math.ceil(m / 8)


def jfp_products(N: int) -> float:
    """Jacobian products of one matrix-free J_FP search (grows slowly with N)."""
    return JFP_PRODUCTS_BASE + JFP_PRODUCTS_PER_NEURON * N


def runtime_request_min(worst_seconds: float, attempt: int = 1, threads: int = 1,
                        threaded: bool = True, safety: float = RUNTIME_SAFETY) -> int:
    """SLURM `runtime` (minutes): start-up plus `safety` x the worst-case seconds
    (shortened by threads where the kernels are parallel), doubled on every attempt."""
    positive_int("attempt", attempt)
    positive_int("threads", threads)
    speedup = threads * PARALLEL_EFFICIENCY if threaded and threads > 1 else 1.0
    seconds = JOB_STARTUP_S + safety * worst_seconds / speedup
    return max(RUNTIME_FLOOR_MIN, math.ceil(seconds / 60.0)) * 2 ** (attempt - 1)


def mem_request_mb(mem_mb: float, attempt: int = 1) -> int:
    """SLURM `mem_mb`: MEM_SAFETY x the expected peak, at least MEM_FLOOR_MB, x MEM_GROWTH
    on every attempt (a job killed for memory comes back with more)."""
    positive_int("attempt", attempt)
    return int(math.ceil(max(MEM_FLOOR_MB, MEM_SAFETY * mem_mb) * MEM_GROWTH ** (attempt - 1)))


# ---- the model of one config ---------------------------------------------------------
class CostModel:
    """Costs of the jobs of one validated config (stdnet.workflow.config.validate_config)."""

    def __init__(self, config: dict):
        self.config = config
        self.plan = SweepPlan(config)  # the jobs' points (stdnet.workflow.plan)
        self.sim = RunParams.from_config(config["simulation"])
        # machine.speed: the CPU rates above were measured on one machine; another one's
        # jobs take 1/speed as long (`stdnet calibrate` measures it)
        machine = config.get("machine", {})
        self.speed = float(machine.get("speed", 1.0))
        # machine.cache_mib: the cache a job's index pattern competes for (a node's L3)
        self.cache = int(float(machine.get("cache_mib", PATTERN_CACHE_BYTES / 2 ** 20))
                         * 2 ** 20)
        self._rules = {"simulate": self._simulate, "lyapunov": self._lyapunov,
                       "record_inputs": self._record_inputs, "jfp_search": self._jfp_search,
                       "jacobian_spectrum": self._jacobian_spectrum,
                       "stability_routes": self._stability_routes, "hetfp_compare": self._hetfp_compare,
                       "dmf_solve": self._dmf_solve, "correlations": self._correlations,
                       "dmf_compare": self._dmf_compare,
                       "heterogeneity_point": self._heterogeneity_point,
                       "heterogeneity_onset": self._heterogeneity_onset,
                       "heterogeneity": self._heterogeneity}

    # -- public ---------------------------------------------------------------------
    def job(self, rule: str, **wildcards) -> JobCost:
        """Cost of one job of `rule` (wildcards as strings or numbers, e.g. N, J0), on a
        machine of speed `machine.speed` (GPU jobs: the GPU rate alone)."""
        if rule not in self._rules:
            raise ValueError(f"rule: value {rule!r} is not allowed; allowed: {', '.join(RULES)}")
        return self._at_speed(self._rules[rule](**wildcards))

    def lyapunov_seconds(self, N, J0, t_average_total: float) -> float:
        """Expected seconds of a lyapunov job that averaged for `t_average_total` tau (its
        extensions included) after t_align: the model's price of a run whose length is
        known (stdnet.workflow.calibration compares it with the job's measured time)."""
        per_step, _ = self._lyapunov_step(N, J0)
        t = self.config["lyapunov"]["t_align"] + float(t_average_total)
        return (LYAPUNOV_STARTUP_S + per_step * self._steps(t)) / self.speed  # a CPU job

    def _at_speed(self, cost: JobCost) -> JobCost:
        if self.speed == 1.0 or cost.gpus:
            return cost
        return replace(cost, seconds=cost.seconds / self.speed,
                       worst_seconds=cost.worst_seconds / self.speed)

    def runtime_min(self, rule: str, attempt: int = 1, threads: int = 1, **wildcards) -> int:
        cost = self.job(rule, **wildcards)
        return runtime_request_min(cost.worst_seconds, attempt, threads, cost.threaded)

    def mem_mb(self, rule: str, attempt: int = 1, **wildcards) -> int:
        return mem_request_mb(self.job(rule, **wildcards).mem_mb, attempt)

    def gpus(self, rule: str, **wildcards) -> int:
        """GPUs of one job: 1 for the integrating rules under simulation.backend: cuda."""
        return self.job(rule, **wildcards).gpus

    def threads(self, rule: str, **wildcards) -> int:
        """Threads of one job: 1, or as many as its parallel kernels need to fit its
        first-attempt request into TARGET_RUNTIME_MIN (at most the largest choice)."""
        cost = self.job(rule, **wildcards)
        if not cost.threaded:
            return 1
        for n in THREAD_CHOICES:
            if runtime_request_min(cost.worst_seconds, 1, n) <= TARGET_RUNTIME_MIN:
                return n
        return THREAD_CHOICES[-1]

    # -- helpers --------------------------------------------------------------------
    def params(self, N, J0=1.0):
        return ModelParams.from_config(self.config["model"], N=positive_int("N", int(N)),
                                       J0=float(J0))

    def _network(self, N) -> tuple:
        """(params, K_E + K_I, pattern bytes) of an N-neuron network."""
        p = self.params(N)
        K = p.K_E + p.K_I
        return p, K, pattern_bytes(p.N, K, p.N_E, p.N_I)

    def _run_mem(self, N, base: float = BASE_MB) -> float:
        _, _, pattern = self._network(N)
        return base + pattern / 1e6

    def _steps(self, t: float) -> float:
        """RK4-step equivalents of t simulated tau (METHOD_STEP_COST)."""
        return t / self.sim.dt * METHOD_STEP_COST[self.sim.method]

    # -- rules ----------------------------------------------------------------------
    @property
    def on_gpu(self) -> bool:
        return self.sim.backend == "cuda"

    def _simulate(self, N, **_) -> JobCost:
        p, K, pattern = self._network(N)
        steps = self.sim.total_steps * METHOD_STEP_COST[self.sim.method]
        s = EXPECTED_STARTUP_S + synapse_seconds(p.N, K, steps, pattern, self.on_gpu,
                                                 self.cache)
        # on the GPU one host thread drives the kernels
        mem = self._run_mem(N) + recording_bytes(p.N_E, p.N_I, self.sim) / 1e6
        return JobCost(s, s, mem, threaded=not self.on_gpu, gpus=int(self.on_gpu))

    def exponents(self, J0, N=None) -> int:
        """m of a lyapunov run: spectrum_exponents at the J0 of lyapunov.spectrum_J0 (up to
        lyapunov.spectrum_N_max), as stdnet.lyapunov.run.spectrum_run decides."""
        ly = self.config["lyapunov"]
        if spectrum_run(ly, J0, N):
            return int(ly["spectrum_exponents"])
        return int(ly["n_exponents"])

    def _lyapunov_step(self, N, J0) -> tuple:
        """(seconds per RK4-equivalent step of trajectory + m tangents, m)."""
        p, K, pattern = self._network(N)
        m = min(self.exponents(J0, N), p.dim)
        return (synapse_seconds(p.N, K, 1, pattern, cache=self.cache)
                * tangent_cost(m, pattern, self.cache), m)

    def _lyapunov(self, N, J0=None, **_) -> JobCost:
        ly = self.config["lyapunov"]
        per_step, m = self._lyapunov_step(N, J0)
        p, K, pattern = self._network(N)
        base = self._steps(ly["t_align"] + ly["t_average"])
        extension = self._steps(ly["t_average"]) * ly["max_extensions"]
        # the periodic-orbit check (lyapunov.cycle_check): trajectory steps alone, at most
        # once per run; the expected cost leaves it out (it replaces extensions it saves)
        check = synapse_seconds(p.N, K, self._steps(ly.get("cycle_check", 0.0)), pattern,
                                cache=self.cache)
        scratch = TANGENT_VECTORS * p.dim * max(m, 8) * 8 / 1e6
        return JobCost(LYAPUNOV_STARTUP_S + per_step * (base + LYAP_EXTENSION_SHARE * extension),
                       LYAPUNOV_STARTUP_S + per_step * (base + extension) + check,
                       self._run_mem(N, LYAP_BASE_MB) + scratch, threaded=True)

    def _record_inputs(self, N, **_) -> JobCost:
        c = self.config["correlations"]
        p, K, pattern = self._network(N)
        s = EXPECTED_STARTUP_S + synapse_seconds(p.N, K, self._steps(c["t_measure"]), pattern,
                                                 self.on_gpu, self.cache)
        return JobCost(s, s, self._run_mem(N) + self.recording_mb(), threaded=not self.on_gpu,
                       gpus=int(self.on_gpu))

    def _jfp_search(self, N, **_) -> JobCost:
        jfp = self.config["stability"]["jfp"]
        p, K, _ = self._network(N)
        s = EXPECTED_STARTUP_S + jfp_products(p.N) * (JFP_PRODUCT_S + p.N * K / MATVEC_RATE)
        mem = self._run_mem(N) + jfp_memory_mb(p, jfp["method"], jfp["dense_max_N"])
        return JobCost(s, s, mem, threaded=True)

    def _jacobian_spectrum(self, N, **_) -> JobCost:
        jfp = self.config["stability"]["jfp"]
        p = self.params(N)
        solves = len(self.config["stability"]["spectrum"]["J0"]) * len(jfp["targets_im"])
        s = EXPECTED_STARTUP_S + solves * SPECTRUM_S_PER_GN3 * (p.N / 1000) ** 3
        mem = self._run_mem(N) + jfp_memory_mb(p, "shift_invert", jfp["dense_max_N"])
        return JobCost(s, s, mem)

    def routes_N(self) -> int:
        """N of stability_routes: stability.routes.N, else the smallest J_FP size."""
        return self.plan.routes_size

    def _stability_routes(self, **_) -> JobCost:
        r = self.config["stability"]["routes"]
        N = self.routes_N()
        p, K, pattern = self._network(N)
        eig = DENSE_EIG_S_PER_GDIM3 * (p.dim / 1000) ** 3 if N <= 1500 else \
            SPECTRUM_S_PER_GN3 * (N / 1000) ** 3
        run = synapse_seconds(p.N, K, self._steps(r["t_sim"]), pattern, cache=self.cache)
        s = EXPECTED_STARTUP_S + 2 * (2 * eig + run)
        dense = 16 * p.dim ** 2 * 3 / 1e6  # complex eigenvectors and the matrix
        return JobCost(s, s, self._run_mem(N) + dense)

    def _hetfp_compare(self, **_) -> JobCost:
        h = self.config["stability"]["hetfp"]
        p, K, pattern = self._network(h["N"])
        per_J0 = synapse_seconds(p.N, K, self._steps(h["t_sim"]), pattern, cache=self.cache) + \
            HETFP_EXTRA_S * (p.N / 1000) ** 3
        s = EXPECTED_STARTUP_S + len(h["J0"]) * per_J0
        dense = 16 * p.N ** 2 * 3 / 1e6
        return JobCost(s, s, self._run_mem(h["N"]) + dense)

    def _dmf_solve(self, N=None, **_) -> JobCost:
        st = DMFSettings.from_config(self.config["dmf"]["solver"],
                                     tau_D=self.config["model"]["tau_D"])
        size = embedding_size(st.n_points, st.n_lags - 1)
        per_iter = 2 * st.n_paths * size / DMF_RATE
        s = EXPECTED_STARTUP_S + per_iter * max(1.0, DMF_ITER_SHARE * st.max_iter)
        worst = EXPECTED_STARTUP_S + per_iter * st.max_iter
        arrays = DMF_ARRAYS * 2 * st.n_paths * size * 8 / 1e6
        return JobCost(s, worst, BASE_MB + arrays)

    def _heterogeneity_point(self, N, **_) -> JobCost:
        """RK4 to settle, Newton solves (dense LU of the Schur complement, HET_NEWTON_S at
        N = 1000, ~N^3) at J0_stationary and along the J_FP search, the chaotic run and its
        lambda_max (one tangent vector). Variable in-degrees have the mean of the fixed ones,
        so the fixed network's pattern prices them."""
        h = self.config["heterogeneity"]
        p, K, pattern = self._network(N)

        def rk4(t):
            return synapse_seconds(p.N, K, t / h["dt"], pattern, cache=self.cache)

        jfp = h["jfp"]
        solves = 0
        if p.N <= jfp["N_max"]:
            steps = math.ceil(max(0.0, jfp["J0_max"] - h["J0_stationary"]) / jfp["step"])
            solves = steps + math.ceil(math.log2(max(jfp["step"] / jfp["tol"], 1.0)))
        newton = HET_NEWTON_S * (p.N / 1000) ** 3
        lyap = rk4(20.0 + h["lyapunov_t_average"]) * tangent_cost(1, pattern, self.cache)
        s = (EXPECTED_STARTUP_S + HET_THEORY_S + rk4(h["t_settle"]) + newton * (1 + solves)
             + rk4(h["t_transient"] + h["t_record"]) + lyap)
        dense = 16 * p.N ** 2 * 3 / 1e6
        return JobCost(s, s, self._run_mem(N) + dense, threaded=True)

    def _heterogeneity_onset(self, N, **_) -> JobCost:
        """The serial onset search of one network: every grid probe, then the bisection's
        probes (max_probes of the grid: its widest gap), each a transient and a
        one-vector Lyapunov run (extensions at LYAP_EXTENSION_SHARE, all in the worst case)."""
        h = self.config["heterogeneity"]
        o = h["onset"]
        p, K, pattern = self._network(N)

        def rk4(t):
            return synapse_seconds(p.N, K, t / h["dt"], pattern, cache=self.cache)

        tangent = tangent_cost(1, pattern, self.cache)
        base = rk4(o["t_transient"]) + rk4(20.0 + o["t_average"]) * tangent
        extension = rk4(o["t_average"]) * tangent * o["max_extensions"]
        n = len(o["J0"]) + max_probes(o["J0"], o["resolution"])
        return JobCost(EXPECTED_STARTUP_S + n * (base + LYAP_EXTENSION_SHARE * extension),
                       EXPECTED_STARTUP_S + n * (base + extension),
                       self._run_mem(N, LYAP_BASE_MB), threaded=True)

    def _heterogeneity(self, **_) -> JobCost:
        h = self.config["heterogeneity"]
        ph = h["phase"]
        solves = (len(h["ensembles"]) * len(h["theory_N"])
                  + len(ph["cv"]) * len(ph["J0"]) * len(ph["N"]))
        files = len(self.plan.heterogeneity_points)
        s = EXPECTED_STARTUP_S + solves * HET_THEORY_S + files * COMPARE_S_PER_FILE
        return JobCost(s, s, BASE_MB + FIGURE_MB)

    def recording_mb(self) -> float:
        """One input recording (record_inputs): E, I and h of the sampled targets."""
        c = self.config["correlations"]
        return 3 * c["t_measure"] / c["sample_interval"] * 2 * c["n_sample"] * 8 / 1e6

    def _correlations(self, **_) -> JobCost:
        c = self.config["correlations"]
        recordings = len(self.plan.correlation_grid)
        samples = c["t_measure"] / c["sample_interval"]
        work = recordings * 2 * c["n_sample"] * samples * (c["n_surrogates"] + 1)
        s = EXPECTED_STARTUP_S + work / CORR_RATE
        # read and analysed one at a time
        return JobCost(s, s, BASE_MB + 4 * self.recording_mb())

    def _dmf_compare(self, **_) -> JobCost:
        recordings = self.plan.correlation_grid
        files = len(self.plan.grid_and_recordings) + len(recordings)
        s = EXPECTED_STARTUP_S + files * COMPARE_S_PER_FILE
        fig_N = int(self.config["dmf"].get("figure_N") or max(self.config["grid"]["N"]))
        at_fig = sum(1 for g in recordings if int(g[0]) == fig_N)
        held = COMPARE_MEM_FACTOR * at_fig * self.recording_mb() / 3  # h traces at figure_N
        return JobCost(s, s, BASE_MB + FIGURE_MB + held)


# ---- the cost of a whole sweep -----------------------------------------------------
def stage_jobs(model: CostModel, probes: int) -> list[tuple]:
    """(rule, wildcards) of every heavy job the config's stages run; onset probes counted
    at `probes` per realization, each a simulation and lyapunov.n_exponents exponents."""
    cfg = model.config
    stages = set(cfg["stages"])
    onset = cfg["transition"]["onset"]["search"] and stages & {"onset", "transition"}
    grid_runs = stages & {"simulate", "figures", "lyapunov", "transition", "onset", "dmf"}
    jfp = "stability" in stages or ("transition" in stages
                                    and cfg["transition"]["jfp_source"] == "auto")
    plan = model.plan
    inputs, exponents = plan.records_inputs, plan.runs_lyapunov
    sims = set(plan.grid) if grid_runs else set()
    sims |= set(plan.correlation_grid) if inputs else set()
    jobs = [("simulate", {"N": N, "J0": J0}) for N, J0, _ in sorted(sims)]
    jobs += [("lyapunov", {"N": N, "J0": J0}) for N, J0, _ in plan.grid] if exponents else []
    if onset:
        for N in cfg["grid"]["N"]:
            probe = [{"N": N, "J0": None}] * probes * len(cfg["grid"]["seeds"])
            jobs += [("simulate", w) for w in probe] + [("lyapunov", w) for w in probe]
    seeds = plan.jfp_seeds
    jobs += [("jfp_search", {"N": N}) for N in plan.jfp_sizes for _ in seeds] if jfp else []
    if "stability" in stages:
        jobs += [("jacobian_spectrum", {"N": N}) for N in plan.spectrum_sizes for _ in seeds]
        jobs += [("stability_routes", {}), ("hetfp_compare", {})]
    jobs += [("record_inputs", {"N": N}) for N, _, _ in plan.correlation_grid] if inputs else []
    jobs += [("correlations", {})] if "correlations" in stages else []
    if "dmf" in stages:
        jobs += [("dmf_solve", {"N": N}) for N, _, _ in plan.dmf.points]
        jobs += [("dmf_compare", {})]
    if plan.heterogeneity_points:
        jobs += [("heterogeneity_point", {"N": N}) for _, N, _ in plan.heterogeneity_points]
        jobs += [("heterogeneity_onset", {"N": N}) for _, N, _ in plan.heterogeneity_onsets]
        jobs += [("heterogeneity", {})]
    return jobs


#: the N label of a job that belongs to the whole sweep (stability_routes, correlations, ...)
SWEEP_WIDE = "-"


def sweep_jobs(config: dict, probes_per_realization: int = 0):
    """Every heavy job of a validated config's stages, one row each: rule, N (a string;
    SWEEP_WIDE for a job of the whole sweep), expected and worst-case core-hours as cores
    held (threads x wall time, i.e. the work over PARALLEL_EFFICIENCY on more than one
    thread), its threads, first-attempt runtime request (h) and mem_mb. sweep_by_rule and
    sweep_cost group these rows, so their totals are the same."""
    model = CostModel(config)
    rows = []
    for rule, wc in stage_jobs(model, probes_per_realization):
        cost = model.job(rule, **wc)
        threads = model.threads(rule, **wc)
        held = 1.0 if threads == 1 else 1.0 / PARALLEL_EFFICIENCY
        rows.append({"rule": rule, "N": str(wc.get("N", SWEEP_WIDE)),
                     "core_h": held * cost.seconds / 3600,
                     "worst_core_h": held * cost.worst_seconds / 3600, "threads": threads,
                     "request_h": model.runtime_min(rule, threads=threads, **wc) / 60,
                     "mem_mb": model.mem_mb(rule, **wc)})
    return pd.DataFrame(rows, columns=["rule", "N", "core_h", "worst_core_h", "threads",
                                       "request_h", "mem_mb"])


def sweep_by_rule(config: dict, probes_per_realization: int = 0):
    """Predicted cost of a validated config per heavy rule (sweep_jobs): jobs, expected
    core-hours, the worst case (every extension and iteration), the most threads a job gets
    and the largest first-attempt request of one job."""
    table = sweep_jobs(config, probes_per_realization)
    return table.groupby("rule", sort=False).agg(
        jobs=("core_h", "size"), core_h=("core_h", "sum"), worst_core_h=("worst_core_h", "sum"),
        max_threads=("threads", "max"), max_request_h=("request_h", "max"),
        max_mem_mb=("mem_mb", "max")).reset_index()


def sweep_cost(config: dict, probes_per_realization: int = 0) -> pd.DataFrame:
    """Predicted cost per N of a validated config: the jobs of costmodel.sweep_jobs (every
    heavy job of its stages, up to `probes_per_realization` onset probes per realization)
    grouped by N, so that its total is costmodel.sweep_by_rule's. Columns: jobs, expected
    core-hours (cores held) of simulate, lyapunov and the other rules, their sum core_h and
    the worst case; N sorted, the jobs of the whole sweep (N "-") and the DMF's N = inf last."""
    jobs = sweep_jobs(config, probes_per_realization)
    kind = jobs["rule"].where(jobs["rule"].isin(["simulate", "lyapunov"]), "other")
    for k in ("simulate", "lyapunov", "other"):
        jobs[f"{k}_core_h"] = jobs["core_h"].where(kind == k, 0.0)
    table = jobs.groupby("N").agg(
        jobs=("core_h", "size"), simulate_core_h=("simulate_core_h", "sum"),
        lyapunov_core_h=("lyapunov_core_h", "sum"), other_core_h=("other_core_h", "sum"),
        core_h=("core_h", "sum"), worst_core_h=("worst_core_h", "sum")).reset_index()
    number = pd.to_numeric(table["N"], errors="coerce")  # "-" and "inf" after the numbers
    return table.assign(_n=number.fillna(float("inf"))).sort_values(
        ["_n", "N"]).drop(columns="_n").reset_index(drop=True)
