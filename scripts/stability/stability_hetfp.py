"""Rule stability_hetfp: heterogeneous fixed point, Gaussian theory vs simulation (Fig 8C-D)."""
from stdnet.plotting import model_caption, save_figure
from stdnet.plotting.stability import hetfp_figure
from stdnet.stability.hetfp import read_hetfp
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
m, cfg = p.model, p.hetfp
data = read_hetfp(snakemake.input.h5, snakemake.input.table)
text = (f"Heterogeneous fixed point, N = {cfg['N']}, seed {cfg['seed']}: runs of "
        f"{cfg['t_sim']:g} τ from the kicked homogeneous state that settled (max|F| < "
        f"{cfg['settle_tol']:g}), polished by Newton, vs the self-consistent Gaussian theory "
        "h = μ + σ z (lines; fixed in-degree sampling variance, Gauss-Hermite averages with "
        f"x = 1/(1 + u τ_D φ(h))). {model_caption(m)}.")
if data["sample"] is None:
    log.warning("no run settled on a heterogeneous fixed point")
save_figure(hetfp_figure(data["table"], data["theory"], data["sample"], text),
            *snakemake.output)
