"""Checkpoint onset_step: one step of the bisection of J_ch for one realization.

Step 0 brackets the onset from the realization's grid runs; step k judges the run at the
midpoint that step k-1 asked for and narrows the bracket (stdnet.onset.search).
"""
from stdnet.onset.search import advance, probe_from_lyapunov, read_search, start, write_search
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
inp = snakemake.input
if p.step == 0:
    grid = [probe_from_lyapunov(path, 0, p.zero_tol) for path in inp.runs]
    search = start(p.N, p.seed, grid, p.resolution, p.undecided)
else:
    search = advance(read_search(inp.prev), probe_from_lyapunov(inp.probe, p.step, p.zero_tol))
    last = search.probes[-1]
    log.info("probe J0 = %s: %s (lambda_max = %.4f +- %.4f)", last.J0, last.decision,
             last.lambda_max, last.half_width)
log.info("N=%d seed=%d step %d: bracket (%s, %s], %s; next probe %s", p.N, p.seed, p.step,
         search.lo, search.hi, search.status, search.next_probe())
write_search(snakemake.output.state, search)
