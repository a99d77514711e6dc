"""Rule heterogeneity_onset: J_ch of one network of one ensemble by the onset search
(stdnet.heterogeneity.onset); the search's state is kept in onset.partial.json between
probes so that a stopped job resumes, and removed once onset.json is written."""
from pathlib import Path

from stdnet.heterogeneity.onset import search_onset
from stdnet.heterogeneity.settings import HeterogeneitySettings, OnsetSettings, ensemble_params
from stdnet.model.network import build_network
from stdnet.onset.search import write_search
from stdnet.workflow.runtime import setup

log = setup(snakemake)
wc, section = snakemake.wildcards, snakemake.params.heterogeneity
settings = HeterogeneitySettings.from_config(section)
onset = OnsetSettings.from_config(section)
params = ensemble_params(snakemake.params.model, section, wc.ensemble, int(wc.N),
                         settings.J0_stationary)
seed = snakemake.params.seed
out = Path(snakemake.output.json)
partial = out.with_name("onset.partial.json")
search = search_onset(params, build_network(params, seed), seed, onset, settings.dt,
                      partial_path=partial)
write_search(out, search)
partial.unlink(missing_ok=True)
log.info("wrote %s", out)
