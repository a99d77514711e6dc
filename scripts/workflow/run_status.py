"""Rule run_status: status, wall time, peak memory and last progress line of every grid point."""
from stdnet.files.tables import write_table
from stdnet.workflow.runtime import setup
from stdnet.workflow.status import run_status

log = setup(snakemake)
table = run_status(snakemake.params.grid, snakemake.params.specs)
write_table(table, snakemake.output.table, float_format="%.6g")
counts = table["status"].value_counts().to_dict()
log.info("run status of %d outputs: %s", len(table), counts)
