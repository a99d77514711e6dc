"""Rule onset_table: J_ch per realization (one row each) and every probe of the searches."""
import pandas as pd

from stdnet.io import atomic_path
from stdnet.onset import probes_table, read_search
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
searches = [read_search(path) for path in snakemake.input.states]  # noqa: F821
table = pd.DataFrame([s.row() for s in searches])
for path, df in ((snakemake.output.table, table),  # noqa: F821
                 (snakemake.output.probes, probes_table(searches))):  # noqa: F821
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
log.info("onset searches: %s", table["onset_status"].value_counts().to_dict())
