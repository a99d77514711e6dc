"""Rule simulate: one trajectory of the (N, J0, seed) grid point to HDF5."""
from stdnet.model.params import ModelParams
from stdnet.workflow.runtime import run_params, setup
from stdnet.simulation.simulate import simulate, write_simulation

log = setup(snakemake)
p = snakemake.params
model = ModelParams.from_config({k: v for k, v in p.model.items() if k not in ("N", "J0")},
                                N=p.model["N"], J0=p.model["J0"])
run = run_params(snakemake)
ckpt = p.checkpoint if run.checkpoint_interval > 0 else None
result = simulate(model, run, p.seed, checkpoint_path=ckpt)
write_simulation(snakemake.output.h5, result, model, run, p.seed, checkpoint_path=ckpt,
                 config=dict(snakemake.config))
log.info("wrote %s", snakemake.output.h5)
