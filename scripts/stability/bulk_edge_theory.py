"""Rule bulk_edge_theory: the random-matrix bulk edge along J0 for each J_FP size
(tables/bulk_edge_theory.csv; drawn by rule stability_jfp)."""
from stdnet.files.tables import write_table
from stdnet.model.params import ModelParams
from stdnet.theory.bulk import bulk_edge_curves
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
model = ModelParams.from_config(p.model, N=int(p.N[0]), J0=float(p.J0_range[0]))
write_table(bulk_edge_curves(model, p.N, p.J0_range), snakemake.output.table)
