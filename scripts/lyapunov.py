"""Rule lyapunov: exponents of one (N, J0, seed) run from the simulation's final state.

The chaos decision (stdnet.regimes.chaos_decision with transition.zero_tol) is made
here: while undecided the same run is continued by t_average, at most
lyapunov.max_extensions times (stdnet.lyapunov.onset_lyapunov); the file records the
decision, the total averaging time and the number of extensions.

Long jobs survive being killed: every lyapunov.checkpoint_interval (simulated tau) and on
SIGTERM the run's whole state goes to <run folder>/lyapunov.checkpoint.h5 (next to the
output, so the rule needs no extra file); a rerun resumes from it to the same bytes, and
it is removed once the output is written (docs/onset.md, "Checkpoints").
"""
import numpy as np

from stdnet.lyapunov import (LyapunovSettings, checkpoint_path_for, onset_lyapunov,
                             state_observables, write_lyapunov)
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.runtime import setup
from stdnet.simulate import read_simulation

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
model = ModelParams.from_config({k: v for k, v in p.model.items() if k not in ("N", "J0")},
                                N=p.model["N"], J0=p.model["J0"])
settings = LyapunovSettings.from_config(p.lyapunov, p.simulation, J0=model.J0, N=model.N)
sim = read_simulation(snakemake.input.sim)  # noqa: F821
y0 = np.asarray(sim["final"]["y"], dtype=np.float64)  # float64 tangent dynamics always
if y0.shape != (model.dim,):
    raise ValueError(f"{snakemake.input.sim}: /final/y has shape {y0.shape}, expected "  # noqa: F821
                     f"({model.dim},) for N={model.N}")
net = build_network(model, p.seed)
ckpt = checkpoint_path_for(snakemake.output.h5)  # noqa: F821
res, _ = onset_lyapunov(model, net, y0, settings, p.seed, zero_tol=float(p.zero_tol),
                        checkpoint_path=ckpt,
                        checkpoint_interval=p.lyapunov.get("checkpoint_interval", 0.0))
obs = state_observables(sim, model)
obs["t_simulation"] = float(sim["final"]["t"])
write_lyapunov(snakemake.output.h5, res, model, settings, p.seed, obs,  # noqa: F821
               checkpoint_path=ckpt)
log.info("wrote %s", snakemake.output.h5)  # noqa: F821
