"""The cost model against the jobs a run actually made (docs/cluster.md, "Predicted vs
measured"): per rule, N and kind (grid point or onset probe), the median of measured CPU time
and wall time over the model's price of that job.

    python tools/cost_vs_measured.py config/width.yaml config/width_local.yaml

Each lyapunov job is priced for its own averaging time (t_align + the t_average_total in its
lyapunov.h5), so the extension share of the model does not enter; simulate jobs are priced as
the model prices them. CPU time / predicted is the machine's speed against the calibration
(`SYN_RATE`); wall / predicted adds the load of the machine.
"""
import sys
from pathlib import Path

import h5py
import pandas as pd

from stdnet.accounting import read_benchmarks
from stdnet.config import load_config_files, schema_dir
from stdnet.costmodel import EXPECTED_STARTUP_S, CostModel, synapse_seconds, tangent_cost


def priced(cfg) -> pd.DataFrame:
    cm = CostModel(cfg)
    root = Path(cfg["results"])
    grid = {float(j) for j in cfg["grid"]["J0"]}
    ly = cfg["lyapunov"]
    rows = []
    table = read_benchmarks(root / "benchmarks")
    for r in table[table.rule.isin(["simulate", "lyapunov"])].itertuples():
        N, J0 = int(r.N), float(r.J0)
        if r.rule == "simulate":
            pred = cm.job("simulate", N=N, J0=J0).seconds
        else:
            path = root / f"N~{N}" / f"J0~{r.J0}" / f"seed~{r.seed}" / "lyapunov.h5"
            try:
                with h5py.File(path, "r") as h:
                    t_av = float(h["summary"].attrs["t_average_total"])
            except (OSError, KeyError):
                continue  # a run still going, or redone since
            p, K, pattern = cm._network(N)
            m = min(cm.exponents(J0, N), p.dim)
            per_step = synapse_seconds(p.N, K, 1, pattern) * tangent_cost(m, pattern)
            pred = EXPECTED_STARTUP_S + per_step * cm._steps(ly["t_align"] + t_av)
        rows.append({"rule": r.rule, "N": N, "kind": "grid" if J0 in grid else "probe",
                     "wall_s": r.s, "cpu_s": r.cpu_time, "pred_s": pred})
    return pd.DataFrame(rows)


def main(paths):
    cfg = load_config_files(["config/params.yaml", *paths], schema_dir())
    d = priced(cfg)
    d["cpu_ratio"] = d.cpu_s / d.pred_s
    d["wall_ratio"] = d.wall_s / d.pred_s
    out = d.groupby(["rule", "N", "kind"]).agg(
        jobs=("pred_s", "size"), pred_median_s=("pred_s", "median"),
        wall_median_s=("wall_s", "median"), cpu_over_pred=("cpu_ratio", "median"),
        wall_over_pred=("wall_ratio", "median")).reset_index()
    pd.set_option("display.width", 200)
    print(f"{cfg['simulation']['method']} dt = {cfg['simulation']['dt']}; medians per group")
    print(out.round(2).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
