"""Rule regimes: the regime of every run from its exponents and spreads."""
import pandas as pd

from stdnet.files.tables import write_table
from stdnet.transition.regimes import Thresholds, classify_table
from stdnet.workflow.runtime import setup

log = setup(snakemake)
th = Thresholds.from_config(snakemake.params.transition)
table = classify_table(pd.read_csv(snakemake.input.table), th)
write_table(table, snakemake.output.table)
log.info("regimes: %s", table["regime"].value_counts().to_dict())
