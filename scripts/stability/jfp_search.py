"""Rule jfp_search: J_FP of one realization (N, seed) from its sparse Jacobian
(stability.jfp.method: the dense solvers up to their largest N, the matrix-free one at any
N; stdnet.stability.jfp)."""
from stdnet.files.errors import InputError
from stdnet.model.params import ModelParams
from stdnet.stability.eigenfile import write_jfp_file
from stdnet.stability.jfp import search_realization
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
cfg = {k: v for k, v in p.jfp.items() if k not in ("N", "seeds")}
model = ModelParams.from_config(p.model, N=int(p.N), J0=float(cfg["J0_range"][0]))
try:
    res, attrs = search_realization(model, int(p.seed), **cfg)
except InputError as err:
    raise InputError(f"config key 'stability.jfp': {err}") from None
write_jfp_file(snakemake.output.h5, model, int(p.seed), res, attrs)
