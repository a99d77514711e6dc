"""Rule spectrum_table: rightmost eigenvalue of each realization vs the bulk-theory edge."""
from stdnet.files.tables import write_table
from stdnet.stability.edge_check import spectrum_table
from stdnet.stability.eigenfile import TABLE_FLOAT_FORMAT
from stdnet.workflow.runtime import setup

log = setup(snakemake)
table = spectrum_table(snakemake.input.spectra)
write_table(table, snakemake.output.table, TABLE_FLOAT_FORMAT)
log.info("wrote %d rows", len(table))
