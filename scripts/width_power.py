"""Rule width_power: how many realizations per N, or which largest N, would decide between
the width models (synthetic data with the measured spread, fitted like the real ones)."""
import pandas as pd

from stdnet import widthstats
from stdnet.io import atomic_path
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
cfg = snakemake.params.width  # noqa: F821
# the transition rule's per-N table and model fits (not recomputed here)
per_N = pd.read_csv(snakemake.input.per_N)  # noqa: F821
fits = pd.read_csv(snakemake.input.fit)  # noqa: F821
N_min = int(per_N["N"].min())
N_sets = [widthstats.doubling(N_min, n) for n in cfg["power"]["N_max"]]
by_model = {r["model"]: r for r in fits.to_dict("records") if r["ok"]}
# two truths: the widths vanish as N -> inf (the pure power law fitted to the data), and
# they level off (the offset power law fitted to the data, where it could be fitted)
truths = {name: by_model[m] for name, m in (("w_inf = 0 (power law)", "power"),
                                            ("fitted offset power law", "offset"))
          if m in by_model}
if not truths:
    log.warning("no power law could be fitted to the widths: no power study")
rows = []
for name, model in truths.items():
    table = widthstats.power_scan(per_N, model, cfg["power"]["n_realizations"], N_sets,
                                  n_sim=int(cfg["power"]["n_sim"]), seed=int(cfg["seed"]),
                                  level=cfg["confidence"])
    table.insert(0, "truth", name)
    rows.append(table)
    log.info("truth %s: %s", name, table[["N_set", "n_realizations", "median_halfwidth",
                                          "power_lrt"]].to_string(index=False))
result = pd.concat(rows) if rows else pd.DataFrame(columns=["truth", "N_set", "n_realizations"])
with atomic_path(snakemake.output.table) as tmp:  # noqa: F821
    result.to_csv(tmp, index=False)
log.info("power study: %d designs", len(result))
