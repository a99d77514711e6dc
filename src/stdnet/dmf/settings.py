"""Numerics of the DMF iteration (config section dmf.solver) and their checks.

DMFSettings holds the path sampling, the lag window and the damped iteration; the
lag window must hold the slow decay that depression gives the E output (max_lag
>= 2 tau_D), checked here for stdnet.workflow.config and for the solve (docs/dmf.md).
"""
from __future__ import annotations

from dataclasses import dataclass

# The lag window must hold the slow decay that depression gives the E output x nu (time
# scale tau_D): a shorter window cuts that tail, and the static part q, read off the last
# quarter of the window, then absorbs the part of it not yet decayed.
MAX_LAG_PER_TAU_D = 2.0


@dataclass(frozen=True)
class DMFSettings:
    """Numerics of the iteration (times in units of tau)."""

    n_paths: int = 500
    t_path: float = 200.0  # >= 2 max_lag
    t_burn: float = 50.0
    dt: float = 0.2
    max_lag: float = 100.0  # >= MAX_LAG_PER_TAU_D x tau_D of the model defaults (tau_D = 50)
    damping: float = 0.6
    tol: float = 1e-3
    max_iter: int = 40
    init_variance: float = 1.0
    seed: int = 1

    def __post_init__(self):
        checks = [("n_paths", self.n_paths >= 2 and isinstance(self.n_paths, int), "an integer >= 2"),
                  ("t_path", self.t_path > 0, "a number > 0"),
                  ("t_burn", self.t_burn >= 0, "a number >= 0"),
                  ("dt", 0 < self.dt <= 1, "a number in (0, 1]"),
                  ("max_lag", self.dt * 4 <= self.max_lag <= self.t_path / 2,
                   f"a number in [4 dt, t_path / 2] = [{4 * self.dt}, {self.t_path / 2}]"),
                  ("damping", 0 < self.damping <= 1, "a number in (0, 1]"),
                  ("tol", self.tol > 0, "a number > 0"),
                  ("max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1,
                   "an integer >= 1"),
                  ("init_variance", self.init_variance >= 0, "a number >= 0"),
                  ("seed", isinstance(self.seed, int) and self.seed >= 0, "an integer >= 0")]
        for key, ok, allowed in checks:
            if not ok:
                raise ValueError(f"config key 'dmf.solver.{key}': value "
                                 f"{getattr(self, key)!r} is not allowed; allowed: {allowed}")

    @property
    def n_lags(self) -> int:
        return int(round(self.max_lag / self.dt)) + 1

    @property
    def n_burn(self) -> int:
        return int(round(self.t_burn / self.dt))

    @property
    def n_points(self) -> int:
        return self.n_burn + int(round(self.t_path / self.dt))

    @classmethod
    def from_config(cls, cfg: dict, tau_D: float | None = None) -> "DMFSettings":
        """Settings from the config section dmf.solver; with tau_D (model.tau_D) its
        derived defaults are filled and max_lag >= 2 tau_D is enforced
        (resolve_solver_config)."""
        if tau_D is not None:
            cfg = resolve_solver_config(cfg, tau_D)
        keys = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in cfg.items() if k in keys})


def resolve_solver_config(solver: dict, tau_D: float) -> dict:
    """dmf.solver with its derived defaults: max_lag 0 -> 2 tau_D, t_path 0 -> 2 max_lag.

    Raises ValueError (the message names the key, the value and what is allowed) when
    max_lag < 2 tau_D or t_path < 2 max_lag."""
    out = dict(solver)
    if not out.get("max_lag"):
        out["max_lag"] = MAX_LAG_PER_TAU_D * float(tau_D)
    if not out.get("t_path"):
        out["t_path"] = 2.0 * float(out["max_lag"])
    problems = solver_config_problems(out, tau_D)
    if problems:
        raise ValueError("; ".join(problems))
    return out


def solver_config_problems(solver: dict, tau_D: float) -> list[str]:
    """The checks of dmf.solver that need model.tau_D (also run at config validation,
    stdnet.workflow.config); 0 means the derived default and always passes."""
    problems = []
    max_lag = solver.get("max_lag") or MAX_LAG_PER_TAU_D * float(tau_D)
    need = MAX_LAG_PER_TAU_D * float(tau_D)
    if max_lag < need:
        problems.append(f"config key 'dmf.solver.max_lag': value {solver['max_lag']!r} is not "
                        f"allowed; allowed: a number >= {MAX_LAG_PER_TAU_D:g} model.tau_D = "
                        f"{need:g} (the lag window must hold the depression's decay), or 0 "
                        "for that default")
    t_path = solver.get("t_path") or 2.0 * max_lag
    if t_path < 2.0 * max_lag:
        problems.append(f"config key 'dmf.solver.t_path': value {solver['t_path']!r} is not "
                        f"allowed; allowed: a number >= 2 dmf.solver.max_lag = {2 * max_lag:g}, "
                        "or 0 for that default")
    return problems
