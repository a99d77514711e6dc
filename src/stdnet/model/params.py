"""Model and run parameters: one validated dataclass each, plus derived quantities.

Every symbol of the model (docs/model.md, section 1) lives here. Errors name the
key, the value and what is allowed, so a bad config fails with a message a user
can act on.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from stdnet.model import ensembles
from stdnet.model.transfer import TRANSFER_NAMES, transfer_code

#: steps of one run beyond which a step size is a typo: 1e12 steps are years at 1e4 steps/s
MAX_STEPS = 10 ** 12
METHODS = ("rk4", "euler", "etd4")  # etd4: stdnet.kernels.etd4
#: where the kernels run (stdnet.kernels.cuda.device checks that a GPU is there)
BACKENDS = ("cpu", "cuda")
#: network ensembles (stdnet.model.ensembles): every neuron K_E and K_I inputs (the paper's),
#: each pair connected with probability c, or gamma-distributed in-degrees with a given CV
CONNECTIVITIES = ("fixed_indegree", "erdos_renyi", "indegree_cv")
#: the keys of quenched heterogeneity; at their defaults the model is the paper's, and they
#: are left out of to_dict (file attributes, checkpoints) and of the filled-in config, so
#: every file and job of a homogeneous network is what it was before they existed
HETEROGENEITY_DEFAULTS = {"connectivity": "fixed_indegree", "indegree_cv": 0.0,
                          "indegree_rho": 0.0, "u_cv": 0.0, "tau_D_cv": 0.0}


def _require(ok: bool, key: str, value, allowed: str) -> None:
    if not ok:
        raise ValueError(f"{key}: invalid value {value!r}; allowed: {allowed}")


@dataclass(frozen=True)
class ModelParams:
    """Parameters of one network: the grid point (N, J0) and the model constants."""

    N: int
    J0: float
    f_E: float = 0.8
    c: float = 0.1
    g_EE: float = 0.5
    g_EI: float = 0.25
    g_IE: float = 1.25
    g_II: float = 4.0
    u: float = 0.1
    tau_D: float = 50.0
    tau_E: float = 1.0
    tau_I: float = 1.0
    I0: float = 0.0
    transfer: str = "softplus"
    # quenched heterogeneity (docs/heterogeneity.md); the defaults give the paper's network
    connectivity: str = "fixed_indegree"
    indegree_cv: float = 0.0  # CV of the gamma in-degrees (connectivity indegree_cv)
    indegree_rho: float = 0.0  # correlation of a neuron's E and I in-degrees (indegree_cv)
    u_cv: float = 0.0  # CV of the lognormal u_j of the E neurons (mean u)
    tau_D_cv: float = 0.0  # CV of the lognormal tau_D,j of the E neurons (mean tau_D)

    def __post_init__(self):
        _require(isinstance(self.N, int) and not isinstance(self.N, bool) and self.N >= 4,
                 "N", self.N, "an integer >= 4")
        _require(_is_number(self.J0) and self.J0 >= 0, "J0", self.J0, "a number >= 0")
        _require(_is_number(self.f_E) and 0 < self.f_E < 1, "f_E", self.f_E, "a number in (0, 1)")
        _require(_is_number(self.c) and 0 < self.c <= 1, "c", self.c, "a number in (0, 1]")
        for key in ("g_EE", "g_EI", "g_IE", "g_II", "u"):
            v = getattr(self, key)
            _require(_is_number(v) and v >= 0, key, v, "a number >= 0")
        for key in ("tau_D", "tau_E", "tau_I"):  # the equations divide by them
            v = getattr(self, key)
            _require(_is_number(v) and v > 0 and math.isfinite(1.0 / v), key, v,
                     "a number > 0 whose inverse is finite (above 1e-308)")
        _require(_is_number(self.I0), "I0", self.I0, "a number")
        _require(self.transfer in TRANSFER_NAMES, "transfer", self.transfer,
                 ", ".join(TRANSFER_NAMES))
        _require(1 <= self.N_E < self.N, "f_E", self.f_E,
                 f"a fraction that leaves at least one E and one I neuron for N={self.N}")
        _require(1 <= self.K_E <= self.N_E - 1, "c", self.c,
                 f"a connection probability giving 1 <= K_E <= N_E-1 (N_E={self.N_E}, K_E={self.K_E})")
        _require(1 <= self.K_I <= self.N_I - 1, "c", self.c,
                 f"a connection probability giving 1 <= K_I <= N_I-1 (N_I={self.N_I}, K_I={self.K_I})")
        self._check_heterogeneity()

    def _check_heterogeneity(self) -> None:
        _require(self.connectivity in CONNECTIVITIES, "connectivity", self.connectivity,
                 ", ".join(CONNECTIVITIES))
        for key in ("indegree_cv", "u_cv", "tau_D_cv"):
            v = getattr(self, key)
            _require(_is_number(v) and v >= 0, key, v, "a number >= 0")
        _require(_is_number(self.indegree_rho) and -1 <= self.indegree_rho <= 1,
                 "indegree_rho", self.indegree_rho, "a number in [-1, 1]")
        if self.connectivity != "indegree_cv":
            for key in ("indegree_cv", "indegree_rho"):
                _require(getattr(self, key) == 0, key, getattr(self, key),
                         f"0 unless connectivity is indegree_cv (it is {self.connectivity})")
            return
        lo, _ = ensembles.rho_range(self.indegree_cv)
        _require(self.indegree_rho >= lo - 1e-12, "indegree_rho", self.indegree_rho,
                 f"a correlation that gamma in-degrees of CV {self.indegree_cv:g} can have, "
                 f"[{lo:.4f}, 1] (skewed marginals cannot be fully anticorrelated)")
        over = ensembles.overflow_expected(self.N, self.N_E, self.K_E, self.K_I,
                                           self.indegree_cv)
        _require(over < ensembles.OVERFLOW_EXPECTED_MAX, "indegree_cv", self.indegree_cv,
                 f"a CV whose in-degrees stay within the population: at N={self.N} a neuron "
                 f"receives at most N_E-1={self.N_E - 1} E and N_I-1={self.N_I - 1} I "
                 f"inputs, which this CV exceeds for an expected {over:.3g} of the "
                 f"{self.N} neurons (at most {ensembles.OVERFLOW_EXPECTED_MAX} allowed)")

    @property
    def heterogeneous(self) -> bool:
        """Whether any quenched heterogeneity key is away from the paper's network."""
        return any(getattr(self, k) != v for k, v in HETEROGENEITY_DEFAULTS.items())

    # ---- derived quantities -------------------------------------------------
    @property
    def N_E(self) -> int:
        return int(round(self.f_E * self.N))

    @property
    def N_I(self) -> int:
        return self.N - self.N_E

    @property
    def K_E(self) -> int:
        """Excitatory inputs of every neuron (fixed in-degree); the mean in-degree and the K
        of the coupling scale J0/sqrt(K) of the other ensembles (stdnet.model.ensembles)."""
        return int(round(self.c * self.N_E))

    @property
    def K_I(self) -> int:
        """Inhibitory inputs of every neuron (fixed in-degree), else their mean."""
        return int(round(self.c * self.N_I))

    @property
    def K(self) -> int:
        return self.K_E

    @property
    def gamma(self) -> float:
        return self.K_I / self.K_E

    @property
    def G(self) -> float:
        """Effective homogeneous gain sqrt(K) J0."""
        return math.sqrt(self.K) * self.J0

    @property
    def coupling(self) -> float:
        """Single-synapse scale J0 / sqrt(K)."""
        return self.J0 / math.sqrt(self.K)

    @property
    def transfer_code(self) -> int:
        return transfer_code(self.transfer)

    @property
    def dim(self) -> int:
        """Phase-space dimension N + N_E (inputs h of all neurons, efficacies x of E neurons)."""
        return self.N + self.N_E

    def replace(self, **changes) -> "ModelParams":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """All fields, the heterogeneity keys only where they differ from the paper's."""
        d = dataclasses.asdict(self)
        for k, v in HETEROGENEITY_DEFAULTS.items():
            if d[k] == v:
                del d[k]
        return d

    @classmethod
    def constant_names(cls) -> tuple[str, ...]:
        """The model constants: every field but the grid point (N, J0)."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("N", "J0"))

    @classmethod
    def from_attrs(cls, attrs) -> "ModelParams":
        """The model of a result file's /params attributes: every constant is required but
        the heterogeneity keys, which files of the paper's network do not carry."""
        kw = {k: attrs[k] for k in cls.constant_names()
              if k not in HETEROGENEITY_DEFAULTS or k in attrs}
        kw = {k: v.item() if hasattr(v, "item") else v for k, v in kw.items()}
        return cls(N=int(attrs["N"]), J0=float(attrs["J0"]), **kw)

    @classmethod
    def from_config(cls, model: dict, N: int, J0: float) -> "ModelParams":
        known = set(cls.constant_names())
        unknown = set(model) - known
        if unknown:
            raise ValueError(f"model: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}")
        return cls(N=int(N), J0=float(J0), **model)


@dataclass(frozen=True)
class RunParams:
    """How one trajectory is integrated and recorded (times in units of tau)."""

    dt: float = 0.05
    method: str = "rk4"
    t_transient: float = 300.0  # >= 6 tau_D: the slow depression mode has settled
    t_record: float = 200.0
    record_interval: float = 0.5
    n_record: int = 4
    perturbation: float = 1e-3
    chunk_steps: int = 2000
    checkpoint_interval: float = 0.0  # simulated time between checkpoints; 0 = none
    precision: str = "float64"  # state type in the kernels: float64 or float32
    backend: str = "cpu"  # cpu, or cuda: the step on an NVIDIA GPU (stdnet.kernels.cuda.engine)
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        _require(_is_number(self.dt) and self.dt > 0, "dt", self.dt, "a number > 0")
        _require(self.method in METHODS, "method", self.method, ", ".join(METHODS))
        _require(_is_number(self.t_transient) and self.t_transient >= 0, "t_transient",
                 self.t_transient, "a number >= 0")
        _require(_is_number(self.t_record) and self.t_record > 0, "t_record", self.t_record,
                 "a number > 0")
        span = self.t_transient + self.t_record
        _require(span / self.dt <= MAX_STEPS, "dt", self.dt,
                 f"a step that covers t_transient + t_record = {span:g} tau in at most "
                 f"{MAX_STEPS:.0e} steps (dt >= {span / MAX_STEPS:.3g}, or shorter times)")
        _require(_is_number(self.record_interval) and self.record_interval >= self.dt,
                 "record_interval", self.record_interval, f"a number >= dt ({self.dt})")
        _require(is_whole(self.record_interval / self.dt), "record_interval",
                 self.record_interval, f"a whole multiple of dt ({self.dt})")
        _require(is_whole(self.t_transient / self.record_interval), "t_transient",
                 self.t_transient, f"a whole multiple of record_interval ({self.record_interval})")
        _require(is_whole(self.t_record / self.record_interval), "t_record", self.t_record,
                 f"a whole multiple of record_interval ({self.record_interval})")
        _require(isinstance(self.n_record, int) and self.n_record >= 0, "n_record",
                 self.n_record, "an integer >= 0")
        _require(_is_number(self.perturbation) and self.perturbation >= 0, "perturbation",
                 self.perturbation, "a number >= 0")
        _require(isinstance(self.chunk_steps, int) and self.chunk_steps >= 1, "chunk_steps",
                 self.chunk_steps, "an integer >= 1")
        _require(_is_number(self.checkpoint_interval) and self.checkpoint_interval >= 0,
                 "checkpoint_interval", self.checkpoint_interval, "a number >= 0")
        _require(self.precision in ("float64", "float32"), "precision", self.precision,
                 "float64, float32")
        _require(self.backend in BACKENDS, "backend", self.backend, ", ".join(BACKENDS))
        if self.method == "etd4":  # its population means are float64 CPU sums
            _require(self.precision == "float64", "precision", self.precision,
                     "float64 with method etd4")
            _require(self.backend == "cpu", "backend", self.backend, "cpu with method etd4")

    @property
    def steps_per_record(self) -> int:
        return int(round(self.record_interval / self.dt))

    @property
    def transient_steps(self) -> int:
        return int(round(self.t_transient / self.dt))

    @property
    def n_samples(self) -> int:
        """Recorded samples after the transient."""
        return int(round(self.t_record / self.record_interval))

    @property
    def total_steps(self) -> int:
        return self.transient_steps + self.n_samples * self.steps_per_record

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("extra")
        return d

    @classmethod
    def from_config(cls, sim: dict) -> "RunParams":
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        unknown = set(sim) - known
        if unknown:
            raise ValueError(f"simulation: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}")
        return cls(**sim)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_whole(r: float) -> bool:
    return abs(r - round(r)) < 1e-9 * max(1.0, abs(r))


#: decimals of J0 (and I0) kept in result paths: values closer than 10**-J0_DECIMALS share a path
J0_DECIMALS = 6


def format_J0(J0: float) -> str:
    """Canonical text of a J0 value, so result paths are stable ('0.87', '1.5', '2')."""
    s = f"{float(J0):.{J0_DECIMALS}f}".rstrip("0").rstrip(".")
    return s if s else "0"
