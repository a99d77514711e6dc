"""Rule jfp_table: one row per (N, seed): J_FP, crossing type ("hopf" | "real" | "none")
and frequency (|Im lambda| at the crossing, 0 for real), plus the bulk-theory estimate."""
import pandas as pd

from stdnet.io import atomic_path
from stdnet.runtime import setup
from stdnet.stability import read_eigen_file

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
rows = []
for path in snakemake.input.jfp:  # noqa: F821
    a = read_eigen_file(path)["attrs"]
    rows.append({k: a[k] for k in ("N", "seed", "J_FP", "crossing", "frequency", "J0_lo",
                                   "J0_hi", "lam_lo_re", "lam_lo_im", "lam_hi_re", "lam_hi_im",
                                   "n_evaluations", "J_FP_bulk", "frequency_bulk",
                                   "wall_time_s")})
COLUMNS = ["N", "seed", "J_FP", "crossing", "frequency"]
jfp = pd.DataFrame(rows, columns=COLUMNS if not rows else None).sort_values(["N", "seed"])
with atomic_path(snakemake.output.table) as tmp:  # noqa: F821
    jfp.to_csv(tmp, index=False, float_format="%.8g")
for N, g in jfp.groupby("N"):
    log.info("N=%d: J_FP = %.4f +- %.4f over %d seeds; hopf %d, real %d, none %d", N,
             g.J_FP.mean(), g.J_FP.std(ddof=1) if len(g) > 1 else 0.0, len(g),
             (g.crossing == "hopf").sum(), (g.crossing == "real").sum(),
             (g.crossing == "none").sum())
