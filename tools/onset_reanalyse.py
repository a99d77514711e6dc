r"""J_ch per realization re-estimated from an onset search's stored probes (no new runs).

    .venv/bin/python tools/onset_reanalyse.py results-width
    .venv/bin/python tools/onset_reanalyse.py results-width --csv onset_reanalysed.csv

Reads every realization's latest state under <results>/onset/N~{N}/seed~{seed}/ (onset.json,
else the highest step~{k}.json, so a search still running is shown as it stands). Probes
from states written before Probe stored n_batches / t_average / ci_envelope get them from
their lyapunov.h5 (<results>/N~{N}/J0~{J0}/seed~{seed}/lyapunov.h5) when it exists, else
keep the conservative se = h / z (stdnet.onset.estimate.se_from_half_width).

Prints one row per realization: the old J_ch (bracket midpoint, J_ch_demonstrated) with its
bracket and J_ch_weak, the new J_ch with its 95 % interval, J_ch_se and J_ch_method. For a
search that has not finished, the crossing is fitted to the probes so far (method
"crossing (unfinished search)"), the old J_ch is empty.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

import pandas as pd

from stdnet.model.params import format_J0
from stdnet.onset import search as onset
from stdnet.onset.estimate import CROSSING, crossing_estimate

COLUMNS = ["N", "seed", "onset_status", "step", "n_probes", "n_undecided", "J_ch_demonstrated",
           "J_ch_lo", "J_ch_hi", "J_ch_weak", "J_ch", "J_ch_ci_lo", "J_ch_ci_hi", "J_ch_se",
           "J_ch_method", "J_ch_note", "n_reread"]


def latest_state(folder: Path) -> Path | None:
    if (folder / "onset.json").is_file():
        return folder / "onset.json"
    steps = sorted(folder.glob("step~*.json"),
                   key=lambda p: int(re.search(r"step~(\d+)", p.name).group(1)))
    return steps[-1] if steps else None


def with_interval_diagnostics(search: onset.OnsetSearch, results: Path):
    """The search with n_batches / t_average / ci_envelope filled in from the probes'
    lyapunov.h5 where the state lacks them; and how many probes were re-read."""
    from stdnet.lyapunov.files import read_lyapunov

    probes, n = [], 0
    for p in search.probes:
        path = results / f"N~{search.N}/J0~{format_J0(p.J0)}/seed~{search.seed}/lyapunov.h5"
        if p.n_batches < 0 and path.is_file():
            s = read_lyapunov(path)["summary"]
            p = dataclasses.replace(p, n_batches=int(s.get("n_batches", -1)),
                                    t_average=float(s.get("t_average_total", -1.0)),
                                    ci_envelope=bool(s.get("ci_envelope", False)))
            n += 1
        probes.append(p)
    return dataclasses.replace(search, probes=probes), n


def reanalyse(results, level: float = 0.95) -> pd.DataFrame:
    results = Path(results)
    rows = []
    for folder in sorted((results / "onset").glob("N~*/seed~*")):
        state = latest_state(folder)
        if state is None:
            continue
        search, n = with_interval_diagnostics(onset.read_search(state), results)
        row = search.row(level=level)
        if search.status == onset.SEARCHING:  # no bracket yet: fit the probes so far
            P = sorted(search.probes, key=lambda p: p.J0)
            est = crossing_estimate([p.J0 for p in P], [p.lambda_max for p in P],
                                    [p.se for p in P], level,
                                    dof=[p.n_batches - 1 if p.n_batches >= 2 and not
                                         p.ci_envelope else float("nan") for p in P])
            row.update(J_ch=est["J_ch"], J_ch_se=est["J_ch_se"],
                       J_ch_ci_lo=est["J_ch_ci_lo"], J_ch_ci_hi=est["J_ch_ci_hi"],
                       J_ch_method=(f"{CROSSING} (unfinished search)"
                                    if est["method"] == CROSSING else est["method"]),
                       J_ch_note=est["note"])
        rows.append({**row, "step": search.step, "n_reread": n})
    return pd.DataFrame(rows, columns=COLUMNS)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="results folder (with onset/N~*/seed~*/step~*.json)")
    ap.add_argument("--csv", help="also write the table here")
    ap.add_argument("--level", type=float, default=0.95)
    a = ap.parse_args(argv)
    table = reanalyse(a.results, a.level)
    if table.empty:
        print(f"no onset states under {Path(a.results) / 'onset'}", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    if a.csv:
        table.to_csv(a.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
