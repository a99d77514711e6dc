"""Interim width statistics of a finite-size study that is still running (or was cut short).

The workflow's `transition` rule waits for every realization of the grid. This tool applies
the same library steps to the realizations that are complete in a results folder (a finished
onset search, every grid run with its exponents, and a J_FP search), so a long cluster run
can be looked at on the way, e.g.

    python tools/width_interim.py config/width.yaml config/width_local.yaml --out interim

writes interim/transition.csv, per_N.csv, fits.csv, lrt.csv, limits.csv, verdict.txt,
bulk.csv (the files of rule transition, stdnet.transition.stage) and width.png. Realizations without all of these are listed and left out (they are not missing
at random only if the run was stopped at random: say which were left out when you quote it).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: stdnet.transition.stage's files, under the names this tool gives them
FILES = {"table": "transition.csv", "per_N": "per_N.csv", "fit": "fits.csv", "lrt": "lrt.csv",
         "limits": "limits.csv", "verdict": "verdict.txt", "bulk": "bulk.csv"}


def load_config(files) -> dict:
    from stdnet.workflow.config import load_config_files

    return load_config_files([ROOT / "config" / "params.yaml", *files], ROOT / "config" / "schema")


def complete_realizations(cfg: dict, results: Path):
    from stdnet.model.params import format_J0

    done, left = [], []
    for N in cfg["grid"]["N"]:
        for seed in cfg["grid"]["seeds"]:
            need = [results / f"onset/N~{N}/seed~{seed}/onset.json",
                    results / f"stability/N~{N}/seed~{seed}/jfp.h5"]
            need += [results / f"N~{N}/J0~{format_J0(j)}/seed~{seed}/lyapunov.h5"
                     for j in cfg["grid"]["J0"]]
            (done if all(p.exists() for p in need) else left).append((int(N), int(seed)))
    return done, left


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configfiles", nargs="+", help="the study's config files, in order")
    ap.add_argument("--out", default="width-interim", help="output folder")
    args = ap.parse_args(argv)

    from stdnet.lyapunov.files import lyapunov_table
    from stdnet.model.params import format_J0
    from stdnet.onset.search import onset_table, read_search
    from stdnet.plotting import save_figure
    from stdnet.plotting.transition import fig_width
    from stdnet.stability.eigenfile import read_eigen_file
    from stdnet.transition.regimes import Thresholds, classify_table, transition_table
    from stdnet.transition.stage import analyse_transition, write_results

    cfg = load_config(args.configfiles)
    results = Path(cfg["results"])
    done, left = complete_realizations(cfg, results)
    print(f"{len(done)} complete realizations; left out: {left or 'none'}", file=sys.stderr)
    if not done:
        return 1
    runs = [results / f"N~{N}/J0~{format_J0(j)}/seed~{s}/lyapunov.h5"
            for N, s in done for j in cfg["grid"]["J0"]]
    regimes = classify_table(lyapunov_table(runs), Thresholds.from_config(cfg["transition"]))
    onset = onset_table([read_search(results / f"onset/N~{N}/seed~{s}/onset.json")
                         for N, s in done])
    jfp = pd.DataFrame([{k: a[k] for k in ("N", "seed", "J_FP", "crossing", "J0_lo", "J0_hi")}
                        for a in (read_eigen_file(results / f"stability/N~{N}/seed~{s}/jfp.h5")
                                  ["attrs"] for N, s in done)])
    trans = transition_table(regimes, jfp, onset)
    res = analyse_transition(trans, cfg["model"], cfg["stability"]["jfp"]["J0_range"],
                             cfg["transition"]["width"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_results({key: out / name for key, name in FILES.items()}, res)
    fig = fig_width(trans, res["per_N"], res["fits"], res["jch_fit"], res["jfp_fit"], res["bulk"],
                    res["verdict"], note=f"Interim: {len(done)} realizations ({out}).")
    save_figure(fig, out / "width.png", out / "width.pdf")
    print(res["verdict"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
