"""Rule spectrum_table: rightmost eigenvalue of each realization vs the bulk-theory edge."""
import pandas as pd

from stdnet.io import atomic_path
from stdnet.runtime import setup
from stdnet.stability import read_eigen_file

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
rows = []
for path in snakemake.input.spectra:  # noqa: F821
    a = read_eigen_file(path)["attrs"]
    for i in range(int(a["n_J0"])):
        rows.append({"N": a["N"], "seed": a["seed"], "J0": a[f"J0_{i}"],
                     "lam_re": a[f"lam_re_{i}"], "lam_im": a[f"lam_im_{i}"],
                     "edge_re": a[f"edge_re_{i}"], "edge_im": a[f"edge_im_{i}"]})
with atomic_path(snakemake.output.table) as tmp:  # noqa: F821
    pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.8g")
log.info("wrote %d rows", len(rows))
