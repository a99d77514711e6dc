"""Rule regimes: the regime of every run from its exponents and spreads."""
import pandas as pd

from stdnet.io import atomic_path
from stdnet.regimes import Thresholds, classify_table
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821
cfg = snakemake.params.transition  # noqa: F821
th = Thresholds(zero_tol=cfg["zero_tol"], temporal_sd_tol=cfg["temporal_sd_tol"],
                spatial_sd_tol=cfg["spatial_sd_tol"])
table = classify_table(pd.read_csv(snakemake.input.table), th)  # noqa: F821
with atomic_path(snakemake.output.table) as tmp:  # noqa: F821
    table.to_csv(tmp, index=False)
log.info("regimes: %s", table["regime"].value_counts().to_dict())
