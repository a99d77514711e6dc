"""Rule onset_result: the final state of one realization's onset search, under a fixed name."""
from stdnet.onset.search import read_search, write_search
from stdnet.workflow.runtime import setup

log = setup(snakemake)
search = read_search(snakemake.input.state)
row = search.row()
log.info("N=%d seed=%d: J_ch = %.4f in [%s, %s] (%s, %d probes)", search.N, search.seed,
         row["J_ch"], search.lo, search.hi, search.status, row["n_probes"])
write_search(snakemake.output.state, search)
