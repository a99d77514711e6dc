"""Figure functions: each takes tables/arrays and returns a matplotlib Figure.

One module per analysis (simulation, stability, lyapunov, dmf); this package
holds the shared style and the writer that saves PNG and PDF atomically.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from ..io import atomic_path, check_writable  # noqa: E402

POP_COLORS = {"E": "#c0392b", "I": "#2c6fbb", "x": "#27ae60"}


def use_style() -> None:
    """The house style: seaborn ticks, readable fonts, no top/right spines."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.1,
                  rc={"axes.spines.top": False, "axes.spines.right": False,
                      "figure.dpi": 110, "savefig.dpi": 200, "savefig.bbox": "tight"})


def save_figure(fig, *paths) -> None:
    """Save `fig` to every path (format from the suffix), each written atomically.

    Every path is checked writable before any is drawn (errors.OutputError), so a bad
    second path does not leave the first written alone; the figure is closed even on error.
    """
    try:
        for path in paths:
            check_writable(path)
        for path in paths:
            path = Path(path)
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=path.suffix.lstrip("."))
    finally:
        plt.close(fig)


def caption(fig, text: str) -> None:
    """A small caption under the axes, stating the parameters of the figure."""
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, wrap=True, color="0.25")
