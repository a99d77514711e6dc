"""Rule heterogeneity_point: one network of one ensemble, its stationary state against the
theory, J_FP of its branch and its Rate Chaos (stdnet.heterogeneity.point)."""
from stdnet.heterogeneity.point import measure_point, write_point
from stdnet.heterogeneity.settings import HeterogeneitySettings, ensemble_params
from stdnet.workflow.runtime import setup

log = setup(snakemake)
wc, section = snakemake.wildcards, snakemake.params.heterogeneity
settings = HeterogeneitySettings.from_config(section)
params = ensemble_params(snakemake.params.model, section, wc.ensemble, int(wc.N),
                         settings.J0_stationary)
seed = snakemake.params.seed
result = measure_point(params, seed, settings)
write_point(snakemake.output.h5, result, params, seed, wc.ensemble, settings)
log.info("wrote %s", snakemake.output.h5)
