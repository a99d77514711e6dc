"""Rule lyapunov_table: one row per run with its exponents, CIs, spreads and K-Y dimension."""
from stdnet.files.tables import write_table
from stdnet.lyapunov.files import lyapunov_table
from stdnet.workflow.runtime import setup

log = setup(snakemake)
table = lyapunov_table(snakemake.input.runs)
write_table(table, snakemake.output.table)
n_bad = int((~table["converged"]).sum())
if n_bad:
    log.warning("%d of %d runs have lambda_max not converged (see column 'converged')",
                n_bad, len(table))
n_undecided = int((table["decision"] == "undecided").sum())
if n_undecided:
    log.warning("%d of %d runs are undecided (chaotic or not) after their extensions (see "
                "columns 'decision', 't_average_total', 'n_batches')", n_undecided, len(table))
log.info("decisions: %s", table["decision"].value_counts().to_dict())
log.info("wrote %s (%d runs)", snakemake.output.table, len(table))
