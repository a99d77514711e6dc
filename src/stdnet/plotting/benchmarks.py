"""Cost of each job class vs N (from Snakemake benchmarks), to size cluster requests."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter, ScalarFormatter

from stdnet.plotting import caption, use_style


def benchmark_figure(table: pd.DataFrame, note: str = ""):
    """Two panels: wall time (s) and peak memory (MB) of every job vs N, per rule.

    table: stdnet.workflow.benchmarks.read_benchmarks (one row per job). Markers are jobs,
    lines join the per-N medians; rules without an N wildcard are listed in the
    caption with their wall time.
    """
    use_style()
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9.0, 3.6), constrained_layout=True)
    with_n = table[table["N"].notna()]
    rules = sorted(with_n["rule"].unique())
    colors = plt.get_cmap("tab10")
    for i, rule in enumerate(rules):
        t = with_n[with_n["rule"] == rule]
        n = t["N"].astype(float).to_numpy()
        for ax, col in ((ax_t, "s"), (ax_m, "max_rss")):
            y = t[col].astype(float).to_numpy()
            ax.plot(n, y, "o", ms=3.5, alpha=0.5, color=colors(i % 10))
            med = t.assign(N=n).groupby("N")[col].median()
            ax.plot(med.index, med.to_numpy(), "-", color=colors(i % 10),
                    label=f"{rule} ({len(t)} jobs)")
    for ax, col, ylabel in ((ax_t, "s", "wall time per job (s)"),
                            (ax_m, "max_rss", "peak memory, max RSS (MB)")):
        ax.set_xlabel("network size N (neurons)")
        ax.set_ylabel(ylabel)
        if len(with_n) and with_n["N"].nunique() > 1:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xticks(sorted(with_n["N"].astype(float).unique()))
        y = with_n[col].astype(float).to_numpy() if len(with_n) else np.array([])
        y = y[np.isfinite(y) & (y > 0)]
        if y.size and y.max() / y.min() > 20:  # a log axis only where it spans decades
            ax.set_yscale("log")
        else:
            ax.set_ylim(0, 1.15 * y.max() if y.size else 1.0)
    if rules:
        ax_t.legend(fontsize=7, frameon=False)
    else:
        ax_t.text(0.5, 0.5, "no benchmarks with an N wildcard", ha="center",
                  transform=ax_t.transAxes)
    ax_t.set_title("run time (markers: jobs, lines: median)", fontsize=9)
    ax_m.set_title("memory", fontsize=9)
    others = table[table["N"].isna()]
    rest = ", ".join(f"{r.rule} {r.s:.1f} s" for r in others.itertuples())
    text = f"Snakemake benchmarks of {len(table)} jobs. {note}"
    if rest:
        text += f" Jobs without N: {rest}."
    caption(fig, text)
    return fig
