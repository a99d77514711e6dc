"""Rule stability_homogeneous: leading eigenvalue of the homogeneous mode (paper Fig 3)."""
from stdnet.files.tables import read_table
from stdnet.plotting import model_caption, save_figure
from stdnet.plotting.stability import homogeneous_figure
from stdnet.workflow.runtime import setup

log = setup(snakemake)
m = snakemake.params.model
curves = read_table(snakemake.input.curves)
hmap = read_table(snakemake.input.map)
text = (f"Leading eigenvalue of the 3x3 Jacobian of the population equations (h_E, h_I, x) at "
        f"the finite-N homogeneous fixed point. {model_caption(m)}; A-B at this I0. Negative "
        "real part: the homogeneous mode is stable.")
save_figure(homogeneous_figure(curves, hmap, text), *snakemake.output)
