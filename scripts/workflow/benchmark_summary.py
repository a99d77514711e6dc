"""Rule benchmark_summary: every job's benchmark as a table, per-rule summary, figure vs N."""
from stdnet.files.tables import write_table
from stdnet.plotting import save_figure
from stdnet.plotting.benchmarks import benchmark_figure
from stdnet.workflow.benchmarks import read_benchmarks, summarise_benchmarks
from stdnet.workflow.runtime import setup

log = setup(snakemake)
out, p = snakemake.output, snakemake.params
table = read_benchmarks(p.benchmarks, exclude=p.exclude)  # our own benchmarks left out
write_table(table, out.jobs, float_format="%.6g")
write_table(summarise_benchmarks(table), out.summary, float_format="%.6g")
fig = benchmark_figure(table, note=p.note)
save_figure(fig, out.png, out.pdf)
log.info("%d benchmarked jobs of %d rules -> %s", len(table), table["rule"].nunique(), out.png)
