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

from stdnet.files.io import atomic_path, check_writable  # noqa: E402

#: the Okabe-Ito palette: distinguishable with every common colour-vision deficiency
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999"}
POP_COLORS = {"E": OKABE_ITO["vermillion"], "I": OKABE_ITO["blue"], "x": OKABE_ITO["green"],
              "xnu_E": OKABE_ITO["purple"]}


def use_style() -> None:
    """The house style: seaborn ticks, readable fonts, no top/right spines."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.1, palette="colorblind",
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


def model_caption(model) -> str:
    """The model constants, worded the same in every figure caption. `model`: a ModelParams
    or the config's `model` section (validated, defaults filled)."""
    d = model.to_dict() if hasattr(model, "to_dict") else dict(model)
    return (f"f_E = {d['f_E']}, c = {d['c']}, (g_EE, g_EI, g_IE, g_II) = ({d['g_EE']}, "
            f"{d['g_EI']}, {d['g_IE']}, {d['g_II']}), u = {d['u']}, τ_D = {d['tau_D']} τ, "
            f"τ_E = {d['tau_E']} τ, τ_I = {d['tau_I']} τ, I0 = {d['I0']}, φ = {d['transfer']}")


def caption(fig, text: str) -> None:
    """A small caption under the axes, stating the parameters of the figure."""
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, wrap=True, color="0.25")
