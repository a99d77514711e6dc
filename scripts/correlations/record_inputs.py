"""Rule record_inputs: continue a simulation and record the block inputs of sampled neurons
with the all-neuron statistics that their decomposition needs (stdnet.correlations.recording). The
analysis itself runs in rule correlations, so changing it never reruns a recording."""
import time

from stdnet.correlations.recording import autocovariance_lags, record_inputs, write_inputs
from stdnet.simulation.simulate import read_simulation
from stdnet.workflow.runtime import model_params, run_params, setup

log = setup(snakemake)
p = snakemake.params
model = model_params(snakemake)
c = p.correlations
sim = read_simulation(snakemake.input.sim)
t0 = time.perf_counter()
log.info("continuing N=%d J0=%g seed=%d for %g tau, %d target neurons per population",
         model.N, model.J0, p.seed, c["t_measure"], c["n_sample"])
rec = record_inputs(model, sim["final"]["y"], p.seed, run_params(snakemake),
                    t_measure=c["t_measure"],
                    sample_interval=c["sample_interval"], n_sample=c["n_sample"])
n_lags = autocovariance_lags(c["max_lag"], c["sample_interval"], rec["h"].shape[0])
settings = {k: c[k] for k in ("t_measure", "sample_interval", "n_sample", "max_lag")}
write_inputs(snakemake.output.h5, rec, {}, model, p.seed, settings, n_lags,
             c["sample_interval"], time.perf_counter() - t0)
log.info("recorded %d samples of %d targets in %.1f s; wrote %s", rec["E"].shape[0],
         rec["E"].shape[1], time.perf_counter() - t0, snakemake.output.h5)
