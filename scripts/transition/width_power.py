"""Rule width_power: how many realizations per N, or which largest N, would decide between
the width models (synthetic data with the measured spread, fitted like the real ones;
stdnet.transition.width_power.power_designs)."""
from stdnet.files.tables import write_table
from stdnet.transition.stage import read_results
from stdnet.transition.width_power import power_designs
from stdnet.workflow.runtime import setup

log = setup(snakemake)
cfg = snakemake.params.width
# the transition rule's per-N table and model fits (not recomputed here)
r = read_results(snakemake.input)
result = power_designs(r["per_N"], r["fits"], cfg["power"]["N_max"],
                       cfg["power"]["n_realizations"], n_sim=int(cfg["power"]["n_sim"]),
                       seed=int(cfg["seed"]), level=cfg["confidence"])
write_table(result, snakemake.output.table)
log.info("power study: %d designs", len(result))
