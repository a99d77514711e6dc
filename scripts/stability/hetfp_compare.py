"""Rule hetfp_compare: simulations that settle on a stationary heterogeneous state, polished
by Newton, against the self-consistent Gaussian theory (paper Fig 8C-D)."""
from stdnet.model.params import ModelParams
from stdnet.stability.hetfp import hetfp_compare, write_hetfp
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
cfg, sim_cfg = p.hetfp, p.simulation
model = ModelParams.from_config(p.model, N=int(cfg["N"]), J0=float(cfg["J0"][0]))
result = hetfp_compare(model, int(cfg["seed"]), cfg["J0"], t_sim=cfg["t_sim"],
                       dt=sim_cfg["dt"], settle_tol=cfg["settle_tol"],
                       perturbation=sim_cfg["perturbation"], theory_J0=cfg["theory_J0"],
                       n_nodes=cfg["n_nodes"], method=sim_cfg["method"])
attrs = {**p.model, **cfg, "dt": sim_cfg["dt"], "perturbation": sim_cfg["perturbation"]}
write_hetfp(snakemake.output.h5, snakemake.output.table, result, attrs)
