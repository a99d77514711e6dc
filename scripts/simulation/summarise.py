"""Rule summarise: one table row per simulation (see stdnet.simulation.summary for definitions)."""
import pandas as pd

from stdnet.files.tables import write_table
from stdnet.simulation.simulate import read_simulation
from stdnet.simulation.summary import summarise_simulation
from stdnet.workflow.runtime import setup

log = setup(snakemake)
tol = snakemake.params.fp_tolerance
rows = [summarise_simulation(read_simulation(path), tol) for path in snakemake.input.sims]
table = pd.DataFrame(rows).sort_values(["N", "J0", "seed"])
write_table(table, snakemake.output.table, float_format="%.10g")
log.info("summarised %d runs into %s", len(table), snakemake.output.table)
