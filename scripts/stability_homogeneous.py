"""Rule homogeneous_modes: 3x3 homogeneous-mode eigenvalues over (J0, N) and (J0, I0)."""
import numpy as np

from stdnet.io import atomic_path
from stdnet.runtime import setup
from stdnet.stability import homogeneous_scan

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
cfg = p.homogeneous
J0s = np.linspace(*cfg["J0_range"], cfg["n_J0"])
J0s = J0s[J0s > 0]
curves = homogeneous_scan(p.model, cfg["N"], J0s)
with atomic_path(snakemake.output.curves) as tmp:  # noqa: F821
    curves.to_csv(tmp, index=False, float_format="%.10g")
I0s = np.linspace(*cfg["I0_range"], cfg["n_I0"])
hmap = homogeneous_scan(p.model, [p.map_N], J0s, I0s)
with atomic_path(snakemake.output.map) as tmp:  # noqa: F821
    hmap.to_csv(tmp, index=False, float_format="%.10g")
for N, g in curves.groupby("N"):
    i = g.lam0_re.idxmax()
    log.info("N=%d: max Re(lambda_hom) = %.4f at J0 = %.3f", N, g.lam0_re[i], g.J0[i])
log.info("(J0, I0) map at N=%d: max Re(lambda_hom) = %.4f", p.map_N, hmap.lam0_re.max())
