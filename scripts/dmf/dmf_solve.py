"""Rule dmf_solve: the DMF of one (N, J0, I0) point to HDF5 (docs/dmf.md)."""
from stdnet.dmf.files import write_dmf
from stdnet.dmf.solver import DMFSettings, network_problem, solve_dmf
from stdnet.model.params import ModelParams
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
model = ModelParams.from_config(p.model, N=int(p.N), J0=p.J0)
cfg = p.dmf
# fills max_lag = 2 tau_D, t_path = 2 max_lag where the config leaves them at 0; its errors
# name the config key, the value and what is allowed
settings = DMFSettings.from_config(cfg["solver"], tau_D=model.tau_D)
where = f"N={model.N}, K_E={model.K_E}" if cfg["finite_K"] else "balanced limit, any N"
log.info("DMF at J0=%g, I0=%g (finite_K=%s: %s; one_minus_c=%s, shared_input=%s); %s",
         model.J0, model.I0, cfg["finite_K"], where, cfg["one_minus_c"], cfg["shared_input"],
         settings)
problem = network_problem(model, finite_K=cfg["finite_K"], one_minus_c=cfg["one_minus_c"],
                          shared_input=cfg["shared_input"])
result = solve_dmf(problem, settings)
write_dmf(snakemake.output.h5, result)
log.info("residual history: %s", " ".join(f"{r:.3g}" for r in result.residuals))
log.info("wrote %s (converged=%s, %.1f s)", snakemake.output.h5, result.converged,
         result.wall_time_s)
