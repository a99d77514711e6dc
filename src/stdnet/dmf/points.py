"""Which DMF solves the workflow runs: the (N, J0, I0) points (docs/dmf.md §8).

Plain Python on the config (no pandas, nothing of the solver): the workflow plans its
jobs with it when it parses the Snakefile.
"""
from __future__ import annotations

from typing import NamedTuple

from stdnet.model.params import format_J0


class DMFPlan(NamedTuple):
    """The DMF solves of a config: the J0 and I0 strings solved, model.I0 (the only I0
    with simulations), the N of Fig 5 and the (N label, J0, I0) of every solve."""

    J0: list
    I0: list
    model_I0: str
    figure_N: int
    points: list


def dmf_solve_points(sims, dmf_J0, dmf_I0, model_I0, figure_N, finite_K):
    """(N label, J0, I0) of every DMF solve (the strings of the file names).

    sims: the simulations' (N, J0, seed). Finite K: at each simulated N the J0 of dmf_J0
    that have simulations there, at model_I0 (there is nothing else to compare with),
    plus every (J0, I0) of dmf_J0 x dmf_I0 at figure_N (the lines of Fig 5). Balanced
    limit: one solve per (J0, I0), labelled N "inf", compared with every N."""
    if not finite_K:
        return sorted({("inf", J0, I0) for J0 in dmf_J0 for I0 in dmf_I0},
                      key=lambda p: (float(p[1]), float(p[2])))
    wanted = set(dmf_J0)
    points = {(int(N), J0, model_I0) for N, J0, _ in sims if J0 in wanted}
    points |= {(int(figure_N), J0, I0) for J0 in dmf_J0 for I0 in dmf_I0}
    return sorted(points, key=lambda p: (p[0], float(p[1]), float(p[2])))


def dmf_plan(config: dict, sims) -> DMFPlan:
    """The DMF solves of `config` against the simulations `sims` ((N, J0, seed): the grid's
    and the correlation recordings').

    dmf.J0 (empty: grid.J0) and dmf.I0 with model.I0 always added (the simulations exist
    only there); dmf.figure_N 0 means the largest grid N, otherwise it must be a simulated
    N (ValueError naming the key otherwise)."""
    dmf = config["dmf"]
    J0s = sorted({format_J0(j) for j in (dmf["J0"] or config["grid"]["J0"])}, key=float)
    model_I0 = format_J0(config["model"]["I0"])
    I0s = sorted({format_J0(i) for i in dmf["I0"]} | {model_I0}, key=float)
    sim_N = sorted({N for N, _, _ in sims})
    figure_N = dmf["figure_N"] or max(int(n) for n in config["grid"]["N"])
    if figure_N not in sim_N:
        raise ValueError(f"config key 'dmf.figure_N': value {dmf['figure_N']} is not allowed; "
                         f"allowed: 0 (the largest grid N) or a simulated N {sim_N} "
                         "(grid.N and the N of correlations.runs)")
    points = dmf_solve_points(sims, J0s, I0s, model_I0, figure_N, dmf["finite_K"])
    return DMFPlan(J0s, I0s, model_I0, figure_N, points)
