"""Rule jfp_table: one row per (N, seed): J_FP, crossing type ("hopf" | "real" | "none")
and frequency (|Im lambda| at the crossing, 0 for real), plus the bulk-theory estimate."""
from stdnet.files.tables import write_table
from stdnet.stability.eigenfile import TABLE_FLOAT_FORMAT, jfp_table
from stdnet.workflow.runtime import setup

log = setup(snakemake)
jfp = jfp_table(snakemake.input.jfp)
write_table(jfp, snakemake.output.table, TABLE_FLOAT_FORMAT)
for N, g in jfp.groupby("N"):
    log.info("N=%d: J_FP = %.4f +- %.4f over %d seeds; hopf %d, real %d, none %d", N,
             g.J_FP.mean(), g.J_FP.std(ddof=1) if len(g) > 1 else 0.0, len(g),
             (g.crossing == "hopf").sum(), (g.crossing == "real").sum(),
             (g.crossing == "none").sum())
