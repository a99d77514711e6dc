"""Rule fixed_point_theory: the homogeneous fixed point vs N, (I0, J0), I0 and J0 (the
theory curves of paper Fig 2, tables/fixed_point_theory.csv)."""
from stdnet.files.tables import write_table
from stdnet.model.params import ModelParams
from stdnet.theory.fixed_point_curves import fixed_point_theory
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
f = p.fig
base = ModelParams.from_config(p.model, N=p.heat_N, J0=f["J0_cut"])
table = fixed_point_theory(base, N_range=f["N_theory"], J0_cut=f["J0_cut"], I0_cut=f["I0_cut"],
                           I0_range=f["I0_range"], J0_range=f["J0_range"], heat_N=p.heat_N)
write_table(table, snakemake.output.table)
