"""Rule transition: J_FP, J_ch, width and route per realization; the width vs N compared
across models, J_c(inf) and J_FP(inf) with their own exponents, the verdict; the bulk
theory's J_FP(N) and its N -> inf limit (stdnet.transition.stage)."""
import pandas as pd

from stdnet.transition.regimes import check_covers, transition_table
from stdnet.transition.stage import analyse_transition, write_results
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
inp = snakemake.input
regimes = pd.read_csv(inp.regimes)
jfp = pd.read_csv(inp.jfp) if "jfp" in inp.keys() else None
onset = pd.read_csv(inp.onset) if "onset" in inp.keys() else None
log.info("J_FP from %s; J_ch from %s", "the stability stage" if jfp is not None else
         "the regimes (grid)", "the onset search" if onset is not None else "the J0 grid")
# no silent grid values: every realization the stability stage computes must be there
check_covers(regimes, jfp, inp.get("jfp", "jfp.csv"), "jfp_table", p.jfp_N, p.get("jfp_seeds"))
check_covers(regimes, onset, inp.get("onset", "onset.csv"), "onset_table")
trans = transition_table(regimes, jfp, onset)
res = analyse_transition(trans, p.model, p.J0_range, p.transition["width"])
write_results(snakemake.output, res)
