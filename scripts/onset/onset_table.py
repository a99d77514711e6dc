"""Rule onset_table: J_ch per realization (one row each) and every probe of the searches."""
from stdnet.files.tables import write_table
from stdnet.onset.search import onset_table, probes_table, read_search
from stdnet.workflow.runtime import setup

log = setup(snakemake)
searches = [read_search(path) for path in snakemake.input.states]
table = onset_table(searches, snakemake.params.estimator)
for path, df in ((snakemake.output.table, table),
                 (snakemake.output.probes, probes_table(searches))):
    write_table(df, path)
log.info("onset searches: %s", table["onset_status"].value_counts().to_dict())
log.info("J_ch (%s): %s", snakemake.params.estimator,
         table["J_ch_method"].value_counts().to_dict())
