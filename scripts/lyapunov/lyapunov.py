"""Rule lyapunov: exponents of one (N, J0, seed) run from the simulation's final state.

The chaos decision (stdnet.lyapunov.decision.chaos_decision with transition.zero_tol) is made
here: while undecided the same run is continued by t_average, at most
lyapunov.max_extensions times (stdnet.lyapunov.run.onset_lyapunov); the file records the
decision, the total averaging time and the number of extensions.

Long jobs survive being killed: every lyapunov.checkpoint_interval (simulated tau) and on
SIGTERM the run's whole state goes to <run folder>/lyapunov.checkpoint.h5 (next to the
output, so the rule needs no extra file); a rerun resumes from it to the same bytes, and
it is removed once the output is written (docs/onset.md, "Checkpoints").
"""
from stdnet.lyapunov.checkpoint import checkpoint_path_for
from stdnet.lyapunov.files import write_lyapunov
from stdnet.lyapunov.run import lyapunov_of_simulation
from stdnet.simulation.simulate import read_simulation
from stdnet.workflow.runtime import model_params, setup

log = setup(snakemake)
p = snakemake.params
sim = read_simulation(snakemake.input.sim)
ckpt = checkpoint_path_for(snakemake.output.h5)
run = lyapunov_of_simulation(sim, model_params(snakemake), p.lyapunov, p.simulation, p.seed,
                             p.zero_tol, checkpoint_path=ckpt, source=snakemake.input.sim)
write_lyapunov(snakemake.output.h5, run.result, run.params, run.settings, run.seed,
               run.observables, checkpoint_path=ckpt)
log.info("wrote %s", snakemake.output.h5)
