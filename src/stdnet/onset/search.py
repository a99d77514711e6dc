"""The onset of chaos J_ch of one realization, located by bisection on chaos decisions.

Every probe is one run (a simulation from the perturbed homogeneous fixed point, then
the Lyapunov exponents from its final state) whose lambda_max is judged "chaotic",
"not chaotic" or "undecided" (stdnet.transition.regimes.chaos_decision). The search

1. starts from the realization's runs on the J0 grid: `hi` is the smallest grid J0 from
   which every larger grid J0 is chaotic, `lo` the largest grid J0 below it that is
   not chaotic;
2. probes the midpoint of (lo, hi) (rounded like result paths, stdnet.model.params.format_J0,
   so that the probe's run folder holds exactly the J0 that was simulated), and moves
   `hi` down on "chaotic", `lo` up on "not chaotic";
3. stops when hi - lo <= resolution ("resolved").

An "undecided" run (its lambda_max interval straddles zero_tol after every extension) is
never turned into "chaotic" or "not chaotic"; what the search does with it is the policy
`undecided` (config transition.onset.undecided):

- "below_onset" (default): J_ch is the onset of *demonstrated* chaos, the smallest J0 from
  which every probe is decided chaotic; an undecided probe has not shown chaos, so it lies
  below that onset and the bisection goes on above it (and so do undecided grid points
  below `hi`). The undecided probes are counted per realization (n_undecided), and the
  lowest J0 from which no probe was decided "not chaotic" is kept as J_ch_weak: the
  onset would lie in [J_ch_weak, J_ch] had every undecided run been weakly chaotic.
- "stop": the search ends at the first undecided probe (status "undecided") and the
  bracket is reported as it stands, wider than the resolution.

The bracket's midpoint is `J_ch_demonstrated`, the onset of demonstrated chaos; it sits
about (zero_tol + h) / slope above the zero crossing of lambda_max and does not shrink with
N. The table's J_ch is by default (`estimator` "crossing", config
transition.onset.estimator) the zero crossing of lambda_max(J0) fitted to every probe's
lambda_max and standard error (stdnet.onset.estimate), with an interval; where the probes
do not allow that fit it falls back to the bracket between the last "not chaotic" probe
and the demonstrated onset (`J_ch_method` says which). The bisection itself (which J0 is
probed) does not depend on the estimator, so a finished search can be re-analysed.
Bisection finds one not-chaotic -> chaotic transition inside the grid bracket; windows
of regularity above it that are narrower than the grid spacing can be missed.

The state is a plain JSON document so that a workflow can advance it one probe per job
(Snakemake checkpoints, workflow/rules/onset.smk) and `serial_search` can replay the
same steps in one process: both call `start` and `advance`, so they agree exactly.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace

import pandas as pd

from stdnet.files.io import write_text
from stdnet.lyapunov.decision import chaos_decision
from stdnet.lyapunov.files import read_lyapunov
from stdnet.model.params import format_J0
from stdnet.onset.estimate import CROSSING, crossing_estimate, se_from_half_width

CHAOTIC, NOT_CHAOTIC, UNDECIDED = "chaotic", "not chaotic", "undecided"
DECISIONS = (CHAOTIC, NOT_CHAOTIC, UNDECIDED)

SEARCHING, RESOLVED = "searching", "resolved"
NO_CHAOS, CHAOS_AT_LOWEST = "no chaos in range", "chaotic at the lowest J0"
STATUSES = (SEARCHING, RESOLVED, UNDECIDED, NO_CHAOS, CHAOS_AT_LOWEST)


@dataclass
class Probe:
    """One judged run: its J0, decision, lambda_max with CI half width, and where from.

    n_batches, t_average and ci_envelope (lyapunov.h5 summary: batch-means batches of
    lambda_max, total averaging time in tau, whether h is the envelope fallback) turn the
    half width into a standard error (`se`, stdnet.onset.estimate.se_from_half_width:
    h / t_{0.975, B-1}, or h / z_{0.975} for an envelope or an unknown B). Their defaults
    (unknown) keep states written before they existed readable.

    periodic: the run's trajectory was certified a stable periodic orbit (stdnet.lyapunov.attractor,
    lyapunov.cycle_check); lambda_max is then its exact value 0 (the run's QR estimate,
    averaged only to the first look, still carries the basis-alignment bias of order
    1/t) with the run's half width, for the estimator of J_ch.
    """

    J0: float
    decision: str
    lambda_max: float
    half_width: float
    step: int  # 0 for the grid runs, k for the k-th bisection probe
    n_batches: int = -1  # -1: not recorded
    t_average: float = -1.0  # total averaging time (tau); -1: not recorded
    ci_envelope: bool = False
    periodic: bool = False

    def __post_init__(self):
        if self.decision not in DECISIONS:
            raise ValueError(f"decision: {self.decision!r}; allowed: {', '.join(DECISIONS)}")

    @property
    def se(self) -> float:
        """Standard error of lambda_max (inf where the run has no interval)."""
        return se_from_half_width(self.half_width, self.n_batches, self.ci_envelope)


@dataclass
class OnsetSearch:
    """The bracket (lo, hi) of one realization's onset of chaos and every probe so far."""

    N: int
    seed: int
    resolution: float
    undecided: str = "below_onset"  # policy for undecided probes (module docstring)
    lo: float = math.nan  # largest probed J0 judged not chaotic, below hi
    hi: float = math.nan  # smallest probed J0 from which all larger probes are chaotic
    status: str = SEARCHING
    step: int = 0
    probes: list = field(default_factory=list)

    def next_probe(self) -> float | None:
        """The J0 to run next (rounded as in result paths), or None when finished."""
        if self.status != SEARCHING:
            return None
        return _midpoint(self.lo, self.hi)

    @property
    def finished(self) -> bool:
        return self.next_probe() is None

    @property
    def J_ch(self) -> float:
        """Midpoint of the final bracket, the onset of demonstrated chaos (NaN when no
        bracket exists). The table's J_ch is `estimate()`'s (module docstring)."""
        if self.status in (RESOLVED, UNDECIDED) and math.isfinite(self.lo):
            return 0.5 * (self.lo + self.hi)
        return math.nan

    J_ch_demonstrated = J_ch

    def estimate(self, estimator: str = "crossing", level: float = 0.95, **opts) -> dict:
        """J_ch, J_ch_se, J_ch_ci_lo, J_ch_ci_hi, J_ch_method, J_ch_note of this search.

        "crossing": the zero crossing of lambda_max(J0) (stdnet.onset.estimate); where it
        cannot be fitted, the bracket from the last "not chaotic" probe below the
        demonstrated onset to that onset (midpoint, se = width / sqrt(12), the bracket as
        interval; method "bracket (fallback)"). "demonstrated": the bisection bracket's
        midpoint, se = its width / sqrt(12). No bracket (no chaos in range, chaotic at the
        lowest J0): NaN, method "none".
        """
        check_estimator(estimator)
        nan = {"J_ch": math.nan, "J_ch_se": math.nan, "J_ch_ci_lo": math.nan,
               "J_ch_ci_hi": math.nan, "J_ch_method": "none", "J_ch_note": self.status}
        if not math.isfinite(self.J_ch):
            return nan
        if estimator == "demonstrated":
            return _bracket(self.lo, self.hi, "demonstrated", "")

        probes = sorted(self.probes, key=lambda p: p.J0)
        est = crossing_estimate([p.J0 for p in probes], [p.lambda_max for p in probes],
                                [p.se for p in probes], level,
                                dof=[p.n_batches - 1 if p.n_batches >= 2 and not
                                     p.ci_envelope else math.nan for p in probes], **opts)
        if est["method"] == CROSSING:
            return {"J_ch": est["J_ch"], "J_ch_se": est["J_ch_se"],
                    "J_ch_ci_lo": est["J_ch_ci_lo"], "J_ch_ci_hi": est["J_ch_ci_hi"],
                    "J_ch_method": CROSSING, "J_ch_note": est["note"]}
        floor = max((p.J0 for p in probes if p.J0 < self.hi and p.decision == NOT_CHAOTIC),
                    default=self.lo)
        return _bracket(floor, self.hi, "bracket (fallback)", est["note"])

    def row(self, estimator: str = "crossing", level: float = 0.95, **opts) -> dict:
        """One table row: the realization, its J_ch (`estimate`), the bisection's bracket,
        resolution and status, and the onset of demonstrated chaos."""
        width = self.hi - self.lo if math.isfinite(self.lo) and math.isfinite(self.hi) \
            else math.nan
        return {"N": self.N, "seed": self.seed, **self.estimate(estimator, level, **opts),
                "J_ch_demonstrated": self.J_ch, "J_ch_lo": self.lo,
                "J_ch_hi": self.hi, "J_ch_resolution": width, "onset_status": self.status,
                "n_probes": sum(1 for p in self.probes if p.step > 0),
                "n_undecided": sum(1 for p in self.probes if p.decision == UNDECIDED),
                "J_ch_weak": self.J_ch_weak, "target_resolution": self.resolution,
                "undecided_policy": self.undecided}

    @property
    def J_ch_weak(self) -> float:
        """Lowest probed J0 above the last "not chaotic" probe below hi: the onset if every
        undecided run in the bracket were weakly chaotic (= J_ch_hi when none is)."""
        if not math.isfinite(self.hi):
            return math.nan
        below = [p.J0 for p in self.probes if p.J0 <= self.hi]
        floor = max((p.J0 for p in self.probes
                     if p.J0 < self.hi and p.decision == NOT_CHAOTIC), default=-math.inf)
        return min(j for j in below if j > floor)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> "OnsetSearch":
        d = json.loads(text)
        d["probes"] = [Probe(**p) for p in d["probes"]]
        return cls(**d)


def _bracket(lo: float, hi: float, method: str, note: str) -> dict:
    return {"J_ch": 0.5 * (lo + hi), "J_ch_se": (hi - lo) / math.sqrt(12), "J_ch_ci_lo": lo,
            "J_ch_ci_hi": hi, "J_ch_method": method, "J_ch_note": note}


ESTIMATORS = ("crossing", "demonstrated")


def check_estimator(estimator: str) -> str:
    if estimator not in ESTIMATORS:
        raise ValueError(f"transition.onset.estimator: invalid value {estimator!r}; allowed: "
                         f"{', '.join(ESTIMATORS)}")
    return estimator


def _midpoint(lo: float, hi: float) -> float | None:
    mid = float(format_J0(0.5 * (lo + hi)))
    return mid if lo < mid < hi else None  # no J0 left between them at path precision


def _check_resolution(resolution: float) -> float:
    if not (isinstance(resolution, (int, float)) and math.isfinite(resolution)
            and resolution > 0):
        raise ValueError(f"transition.onset.resolution: invalid value {resolution!r}; "
                         "allowed: a number > 0")
    return float(resolution)


UNDECIDED_POLICIES = ("below_onset", "stop")


def start(N: int, seed: int, grid: list[Probe], resolution: float,
          undecided: str = "below_onset") -> OnsetSearch:
    """Step 0: the bracket from the realization's grid runs (see the module docstring)."""
    if undecided not in UNDECIDED_POLICIES:
        raise ValueError(f"transition.onset.undecided: invalid value {undecided!r}; allowed: "
                         f"{', '.join(UNDECIDED_POLICIES)}")
    search = OnsetSearch(N=int(N), seed=int(seed), resolution=_check_resolution(resolution),
                         undecided=undecided)
    if not grid:
        raise ValueError(f"onset search N={N} seed={seed}: no grid runs to start from")
    probes = sorted(grid, key=lambda p: p.J0)
    search.probes = list(probes)
    if probes[-1].decision != CHAOTIC:
        search.lo, search.status = probes[-1].J0, NO_CHAOS
        return search
    k = len(probes) - 1
    while k > 0 and probes[k - 1].decision == CHAOTIC:
        k -= 1
    search.hi = probes[k].J0
    lower = (NOT_CHAOTIC, UNDECIDED) if undecided == "below_onset" else (NOT_CHAOTIC,)
    below = [p.J0 for p in probes[:k] if p.decision in lower]
    if not below:
        search.status = CHAOS_AT_LOWEST  # chaotic down to the grid's lowest decided J0
        return search
    search.lo = max(below)
    _settle(search)
    return search


def advance(search: OnsetSearch, probe: Probe) -> OnsetSearch:
    """Step k: the search after judging the run at its next J0 (a new object)."""
    J0 = search.next_probe()
    if J0 is None:
        raise ValueError(f"onset search N={search.N} seed={search.seed}: already finished "
                         f"({search.status})")
    if abs(probe.J0 - J0) > 1e-9:
        raise ValueError(f"onset search N={search.N} seed={search.seed}: probe at J0="
                         f"{probe.J0}, expected the midpoint J0={J0}")
    new = OnsetSearch.from_json(search.to_json())
    new.step = search.step + 1
    new.probes.append(replace(probe, J0=J0, step=new.step))
    if probe.decision == CHAOTIC:
        new.hi = J0
    elif probe.decision == NOT_CHAOTIC or search.undecided == "below_onset":
        new.lo = J0
    else:
        new.status = UNDECIDED
        return new
    _settle(new)
    return new


def _settle(search: OnsetSearch) -> None:
    if search.hi - search.lo <= search.resolution * (1 + 1e-9) or \
            _midpoint(search.lo, search.hi) is None:
        search.status = RESOLVED


def serial_search(judge, N: int, seed: int, grid: list[Probe], resolution: float,
                  undecided: str = "below_onset") -> OnsetSearch:
    """The whole search in one process: judge(J0) -> Probe runs one probe."""
    search = start(N, seed, grid, resolution, undecided)
    while (J0 := search.next_probe()) is not None:
        search = advance(search, judge(J0))
    return search


def max_probes(grid_J0, resolution: float) -> int:
    """Most bisection probes a realization can need on this grid (widest adjacent gap)."""
    J = sorted(float(j) for j in grid_J0)
    gap = max((b - a for a, b in zip(J, J[1:])), default=0.0)
    if gap <= resolution:
        return 0
    return int(math.ceil(math.log2(gap / resolution)))


def read_search(path) -> OnsetSearch:
    with open(path) as f:
        return OnsetSearch.from_json(f.read())


def write_search(path, search: OnsetSearch) -> None:
    write_text(path, search.to_json())  # atomic; a full disk is an errors.OutputError


def probe_from_lyapunov(path, step: int, zero_tol: float) -> Probe:
    """The judged probe of one lyapunov.h5: its recorded decision (or the rule applied to
    its lambda_max and CI half width when the file predates recorded decisions)."""
    d = read_lyapunov(path)
    s = d["summary"]
    lam, half = float(s["lambda_max"]), float(s["lambda_max_ci"])
    decision = s.get("decision")
    if decision is None:
        decision = chaos_decision(lam, half, zero_tol)
    # the interval's diagnostics (for the standard error); older files lack some of them
    t_avg = s.get("t_average_total", d.get("settings", {}).get("t_average", -1.0))
    periodic = bool(s.get("cycle_found", False))
    return Probe(J0=float(d["params"]["J0"]), decision=str(decision),
                 lambda_max=0.0 if periodic else lam, half_width=half, step=int(step),
                 n_batches=int(s.get("n_batches", -1)), t_average=float(t_avg),
                 ci_envelope=bool(s.get("ci_envelope", False)), periodic=periodic)


def onset_table(searches, estimator: str = "crossing") -> "pandas.DataFrame":  # noqa: F821
    """J_ch per realization: one `OnsetSearch.row` per search."""
    check_estimator(estimator)
    return pd.DataFrame([s.row(estimator) for s in searches])


def probes_table(searches) -> "pandas.DataFrame":  # noqa: F821
    """Every probe of every search (grid runs have step 0), one row each."""
    rows = [{"N": s.N, "seed": s.seed, **asdict(p), "se": p.se}
            for s in searches for p in s.probes]
    return pd.DataFrame(rows, columns=["N", "seed", "J0", "decision", "lambda_max",
                                       "half_width", "se", "n_batches", "t_average",
                                       "ci_envelope", "periodic", "step"])
