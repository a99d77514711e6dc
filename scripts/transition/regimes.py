"""Rule regimes: the regime of every run from its exponents and spreads."""
import pandas as pd

from stdnet.files.io import atomic_path
from stdnet.transition.regimes import Thresholds, classify_table
from stdnet.workflow.runtime import setup

log = setup(snakemake)
th = Thresholds.from_config(snakemake.params.transition)
table = classify_table(pd.read_csv(snakemake.input.table), th)
with atomic_path(snakemake.output.table) as tmp:
    table.to_csv(tmp, index=False)
log.info("regimes: %s", table["regime"].value_counts().to_dict())
