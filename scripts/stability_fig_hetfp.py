"""Rule fig8_hetfp: heterogeneous fixed point, Gaussian theory vs simulation (Fig 8C-D)."""
import pandas as pd

from stdnet.io import open_h5
from stdnet.plotting import save_figure
from stdnet.plotting.stability import hetfp_figure
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
m, cfg = p.model, p.hetfp
table = pd.read_csv(snakemake.input.table)  # noqa: F821
sample = None
with open_h5(snakemake.input.h5, kind="heterogeneous fixed point file") as f:  # noqa: F821
    theory = f["theory"][()]
    het = table[table.heterogeneous.astype(bool)]
    if len(het):
        row = het.iloc[-1]
        g = f[f"J0~{row.J0:g}"]
        N_E = int(round(m["f_E"] * int(row.N)))
        sample = {"J0": float(row.J0), "h_E": g["h"][:N_E], "x": g["x"][()],
                  "mu": float(row.theory_mu_E), "sigma": float(row.theory_sigma_E)}
text = (f"Heterogeneous fixed point, N = {cfg['N']}, seed {cfg['seed']}: runs of "
        f"{cfg['t_sim']:g} τ from the kicked homogeneous state that settled (max|F| < "
        f"{cfg['settle_tol']:g}), polished by Newton, vs the self-consistent Gaussian theory "
        "h = μ + σ z (lines; fixed in-degree sampling variance, Gauss-Hermite averages with "
        f"x = 1/(1 + u τ_D φ(h))). g = ({m['g_EE']}, {m['g_EI']}, {m['g_IE']}, {m['g_II']}), "
        f"u = {m['u']}, τ_D = {m['tau_D']} τ, c = {m['c']}, I0 = {m['I0']}.")
if sample is None:
    log.warning("no run settled on a heterogeneous fixed point")
save_figure(hetfp_figure(table, theory, sample, text), *snakemake.output)  # noqa: F821
