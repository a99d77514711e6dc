"""Rule simulate: one trajectory of the (N, J0, seed) grid point to HDF5."""
from stdnet.simulation.simulate import simulate, write_simulation
from stdnet.workflow.runtime import model_params, run_params, setup

log = setup(snakemake)
p = snakemake.params
model = model_params(snakemake)
run = run_params(snakemake)
ckpt = p.checkpoint if run.checkpoint_interval > 0 else None
result = simulate(model, run, p.seed, checkpoint_path=ckpt)
write_simulation(snakemake.output.h5, result, model, run, p.seed, checkpoint_path=ckpt,
                 config=dict(snakemake.config))
log.info("wrote %s", snakemake.output.h5)
