"""The heterogeneity stage's settings (config section `heterogeneity`, schema
config/schema/heterogeneity.yaml) and the model of each named ensemble."""
from __future__ import annotations

from dataclasses import dataclass

from stdnet.model.params import ModelParams


@dataclass(frozen=True)
class HeterogeneitySettings:
    """What one point job measures (times in tau)."""

    J0_stationary: float = 0.5
    J0_chaos: float = 1.5
    silent_rate: float = 0.05
    dt: float = 0.05
    t_settle: float = 400.0
    t_transient: float = 200.0
    t_record: float = 200.0
    lyapunov_t_average: float = 200.0
    jfp_N_max: int = 2000
    jfp_step: float = 0.05
    jfp_J0_max: float = 2.0
    jfp_tol: float = 0.005

    @classmethod
    def from_config(cls, section: dict) -> "HeterogeneitySettings":
        jfp = section.get("jfp", {})
        keys = {k: section[k] for k in ("J0_stationary", "J0_chaos", "silent_rate", "dt",
                                        "t_settle", "t_transient", "t_record",
                                        "lyapunov_t_average") if k in section}
        keys.update({f"jfp_{k}": v for k, v in jfp.items()})
        return cls(**keys)


@dataclass(frozen=True)
class OnsetSettings:
    """J_ch per network (config heterogeneity.onset; stdnet.heterogeneity.onset): which
    ensembles and sizes are searched, the J0 grid the bisection starts from, and the probes'
    run lengths (tau)."""

    ensembles: tuple = ()
    N_max: int = 2000
    J0: tuple = (0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
    resolution: float = 0.02
    zero_tol: float = 0.005
    undecided: str = "below_onset"
    t_transient: float = 200.0
    t_average: float = 200.0
    max_extensions: int = 2

    @classmethod
    def from_config(cls, section: dict) -> "OnsetSettings":
        o = dict(section.get("onset", {}))
        if "ensembles" in o:
            o["ensembles"] = tuple(o["ensembles"])
        if "J0" in o:
            o["J0"] = tuple(sorted(float(j) for j in o["J0"]))
        return cls(**o)

    def searched(self, ensemble: str, N: int) -> bool:
        """Is the network of this ensemble and size searched?"""
        return ensemble in self.ensembles and int(N) <= self.N_max


def ensemble_model(model: dict, section: dict, ensemble: str) -> dict:
    """The `model` config of one named ensemble: its keys laid over the config's model."""
    ensembles = section["ensembles"]
    if ensemble not in ensembles:
        raise ValueError(f"heterogeneity.ensembles: no ensemble {ensemble!r}; allowed: "
                         f"{', '.join(ensembles)}")
    return {**model, **ensembles[ensemble]}


def ensemble_params(model: dict, section: dict, ensemble: str, N: int, J0: float
                    ) -> ModelParams:
    return ModelParams.from_config(ensemble_model(model, section, ensemble), N=int(N),
                                   J0=float(J0))
