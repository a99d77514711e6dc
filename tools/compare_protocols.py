"""Same answers? The per-realization transition tables of two runs of the width study (e.g.
RK4 at dt = 0.05 and ETD4 at dt = 0.25) side by side (docs/results.md §4.2).

    python tools/compare_protocols.py OLD_RESULTS NEW_RESULTS [--N 1000 2000]

Per N, over the realizations (N, seed) present in both `tables/transition.csv`:
- J_FP: the largest |difference| against the stability stage's tolerance (the search does
  not integrate, so it should not move at all);
- J_ch: how many differ by no more than the bisection resolution (the larger of the two
  J_ch_resolution), how many have the same bisection bracket [J_ch_lo, J_ch_hi] (every
  probe decided the same way), and the mean difference new - old with its 95 % t-interval
  over realizations (they are independent networks);
- the mean width J_ch - J_FP of each over the pairs (realizations with a J_ch in both).
"""
import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats


def load(folder) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / "tables" / "transition.csv").set_index(["N", "seed"])


def compare(old: pd.DataFrame, new: pd.DataFrame, sizes=None) -> pd.DataFrame:
    both = old.add_suffix("_old").join(new.add_suffix("_new"), how="inner")
    rows = []
    for N, g in both.groupby(level="N"):
        if sizes and N not in sizes:
            continue
        same_bracket = np.isclose(g.J_ch_lo_old, g.J_ch_lo_new) & np.isclose(g.J_ch_hi_old,
                                                                             g.J_ch_hi_new)
        realizations = len(g)
        # pairs: realizations with a J_ch in both (one without chaos on the grid has none)
        g = g[np.isfinite(g.J_ch_new) & np.isfinite(g.J_ch_old)]
        d = (g.J_ch_new - g.J_ch_old).to_numpy()
        res = np.maximum(g.J_ch_resolution_old, g.J_ch_resolution_new).to_numpy()
        n = len(d)
        half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        rows.append({"N": N, "realizations": realizations, "pairs": n,
                     "J_FP_max_abs_diff": float(np.abs(g.J_FP_new - g.J_FP_old).max()),
                     "J_ch_within_resolution": int((np.abs(d) <= res + 1e-12).sum()),
                     "same_bracket": int(same_bracket.sum()),
                     "J_ch_mean_diff": float(d.mean()), "J_ch_ci95": float(half),
                     "J_ch_max_abs_diff": float(np.abs(d).max()),
                     "width_old": float(g.width_old.mean()),
                     "width_new": float(g.width_new.mean())})
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--N", type=int, nargs="*", default=None)
    a = ap.parse_args()
    old, new = load(a.old), load(a.new)
    pd.set_option("display.width", 200)
    print(compare(old, new, a.N).round(4).to_string(index=False))
    both = old.add_suffix("_old").join(new.add_suffix("_new"), how="inner")
    print("\nper realization (J_ch old, new, difference; bracket old, new):")
    for (N, s), r in both.iterrows():
        if a.N and N not in a.N:
            continue
        print(f"  N={N} seed={s:>2}: {r.J_ch_old:.4f} {r.J_ch_new:.4f} {r.J_ch_new - r.J_ch_old:+.4f}"
              f"   [{r.J_ch_lo_old:.4f}, {r.J_ch_hi_old:.4f}] [{r.J_ch_lo_new:.4f}, "
              f"{r.J_ch_hi_new:.4f}]")


if __name__ == "__main__":
    main()
