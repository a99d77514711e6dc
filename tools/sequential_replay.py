"""Replay chaos-decision rules on the local exponents that lyapunov.h5 files recorded.

    python tools/sequential_replay.py results-width [--alpha 0.05]

For every <results>/N~*/J0~*/seed~*/lyapunov.h5 the recorded local exponents are cut at each
look of a rule and decided as onset_lyapunov decides (stdnet.lyapunov.spectrum.exponent_ci, then
stdnet.transition.regimes.chaos_decision). The first rule is the one the files were made with (looks
after every t_average at 95 %): its replay must give every recorded decision. The others
look earlier or more often at the error-controlled level (stdnet.lyapunov.sequential). A rule that
would need more averaging than a file recorded is counted as such, not guessed.
(docs/onset.md, "Sequential decision".) Reads the files only; no simulation is run.
"""
from __future__ import annotations

import argparse
import glob
import re

import h5py
import pandas as pd

from stdnet.lyapunov.decision import chaos_decision
from stdnet.lyapunov.sequential import controlled_level, crossing_probability
from stdnet.lyapunov.spectrum import exponent_ci


def replay(local, looks, level, zero_tol):
    """(decision, intervals averaged) of one rule; 'beyond' when it needs more than recorded."""
    for n in looks:
        if n > local.shape[0]:
            return "beyond", n
        mean, half, *_ = exponent_ci(local[:n], confidence=level)
        d = chaos_decision(mean[0], half[0], zero_tol)
        if d != "undecided":
            return d, n
    return "undecided", looks[-1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--zero-tol", type=float, default=0.005)
    ap.add_argument("--budget", type=int, default=1000, help="averaging intervals at most")
    a = ap.parse_args(argv)
    today = list(range(200, a.budget + 1, 200))
    rules = {"today": (today, 0.95)}
    for first, step in ((200, 200), (200, 50), (100, 50), (100, 100)):
        looks = list(range(first, a.budget + 1, step))
        rules[f"{first}+{step}"] = (looks, controlled_level(looks, a.alpha))
    print(f"today's rule (looks {today} at 95 %): one bound crossed with probability "
          f"{crossing_probability(today, 1.959964):.3f} in the Brownian limit")
    rows = []
    for f in sorted(glob.glob(f"{a.results}/N~*/J0~*/seed~*/lyapunov.h5")):
        N, J0, seed = re.search(r"N~(\d+)/J0~([\d.]+)/seed~(\d+)", f).groups()
        with h5py.File(f, "r") as h:
            local = h["local"][()]
            recorded = str(h["summary"].attrs.get("decision", ""))
        row = dict(N=int(N), J0=float(J0), seed=int(seed), recorded=recorded)
        for name, (looks, level) in rules.items():
            row[name], row[name + "_n"] = replay(local, looks, level, a.zero_tol)
        rows.append(row)
    d = pd.DataFrame(rows)
    print(f"{len(d)} runs ({d.N.value_counts().sort_index().to_dict()}); today's replay gives "
          f"the recorded decision in {(d.today == d.recorded).sum()}")
    for name, (looks, level) in list(rules.items())[1:]:
        ok = d[d[name] != "beyond"]
        print(f"looks {looks[0]}, {looks[1] if len(looks) > 1 else ''}, ..., {looks[-1]} at "
              f"{level:.5f}: decidable {len(ok)}, same decision {(ok[name] == ok.today).sum()}, "
              f"changed {(ok[name] != ok.today).sum()} "
              f"({ok[ok[name] != ok.today][name].value_counts().to_dict()}); averaging "
              f"{ok.today_n.sum()} -> {ok[name + '_n'].sum()}; need longer "
              f"{(d[name] == 'beyond').sum()} "
              f"({d[d[name] == 'beyond'].today.value_counts().to_dict()})")


if __name__ == "__main__":
    main()
