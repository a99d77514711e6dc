"""The width study analysed twice from the same probes: J_ch as the old bracket midpoint
("demonstrated") and as the zero crossing of lambda_max ("crossing", the default).

    python tools/width_old_new.py results-width config/width.yaml config/width_local.yaml

Reads <results>/onset/N~*/seed~*/onset.json (finished searches only), tables/regimes.csv and
tables/jfp.csv, builds the transition table with each estimator (stdnet.onset.search.onset_table,
stdnet.transition.regimes.transition_table) and runs the transition rule's analysis on both
(stdnet.transition.stage.analyse_transition). Prints the per-N means and the two verdicts; no
simulation is run. (docs/results.md section 4.1.)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from stdnet.onset.search import onset_table, read_search
from stdnet.transition.regimes import transition_table
from stdnet.transition.stage import analyse_transition
from stdnet.workflow.config import load_config_files

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("configs", nargs="*", type=Path)
    a = ap.parse_args(argv)
    cfg = load_config_files([ROOT / "config" / "params.yaml", *a.configs], ROOT / "config" / "schema")
    searches = [read_search(p) for p in sorted(a.results.glob("onset/N~*/seed~*/onset.json"))]
    regimes = pd.read_csv(a.results / "tables" / "regimes.csv")
    jfp = pd.read_csv(a.results / "tables" / "jfp.csv")
    tr = cfg["transition"]
    out = {}
    for est in ("demonstrated", "crossing"):
        trans = transition_table(regimes, jfp, onset_table(searches, est))
        trans = trans[trans["N"].isin({s.N for s in searches})]
        out[est] = (trans, analyse_transition(trans, cfg["model"],
                                              cfg["stability"]["jfp"]["J0_range"], tr["width"]))
    both = out["demonstrated"][0][["N", "seed", "J_FP", "J_ch"]].merge(
        out["crossing"][0][["N", "seed", "J_ch", "J_ch_se"]], on=["N", "seed"],
        suffixes=("_old", "_new"))
    both["diff"] = both["J_ch_new"] - both["J_ch_old"]
    pd.set_option("display.width", 200)
    print(both.round(4).to_string(index=False))
    g = both.groupby("N")
    summary = pd.DataFrame({
        "n": g.size(), "J_FP": g.J_FP.mean(), "J_FP_se": g.J_FP.sem(),
        "J_ch_old": g.J_ch_old.mean(), "J_ch_old_se": g.J_ch_old.sem(),
        "J_ch_new": g.J_ch_new.mean(), "J_ch_new_se": g.J_ch_new.sem(),
        "width_old": g.apply(lambda x: (x.J_ch_old - x.J_FP).mean()),
        "width_new": g.apply(lambda x: (x.J_ch_new - x.J_FP).mean()),
        "width_new_se": g.apply(lambda x: (x.J_ch_new - x.J_FP).sem()),
        "diff_mean": g["diff"].mean(), "diff_se": g["diff"].sem()})
    print(summary.round(4).to_string())
    for est, (_, res) in out.items():
        print(f"\nverdict ({est}): {res['verdict']}")


if __name__ == "__main__":
    main()
