"""Rule fig3_homogeneous: leading eigenvalue of the homogeneous mode (paper Fig 3)."""
import pandas as pd

from stdnet.plotting import save_figure
from stdnet.plotting.stability import homogeneous_figure
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
m = snakemake.params.model  # noqa: F821
curves = pd.read_csv(snakemake.input.curves)  # noqa: F821
hmap = pd.read_csv(snakemake.input.map)  # noqa: F821
text = (f"Leading eigenvalue of the 3x3 Jacobian of the population equations (h_E, h_I, x) at "
        f"the finite-N homogeneous fixed point. g = ({m['g_EE']}, {m['g_EI']}, {m['g_IE']}, "
        f"{m['g_II']}), u = {m['u']}, τ_D = {m['tau_D']} τ, f_E = {m['f_E']}, c = {m['c']}, "
        f"φ = {m['transfer']}; A-B at I0 = {m['I0']}. Negative real part: the homogeneous "
        "mode is stable.")
save_figure(homogeneous_figure(curves, hmap, text), *snakemake.output)  # noqa: F821
