"""Rule homogeneous_modes: 3x3 homogeneous-mode eigenvalues over (J0, N) and (J0, I0)."""
from stdnet.files.tables import write_table
from stdnet.model.params import ModelParams
from stdnet.stability.scan import FLOAT_FORMAT, homogeneous_modes
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
cfg = p.homogeneous
model = ModelParams.from_config(p.model, N=p.map_N, J0=cfg["J0_range"][0])
curves, hmap = homogeneous_modes(model, cfg["N"], cfg["J0_range"], cfg["n_J0"],
                                 cfg["I0_range"], cfg["n_I0"], p.map_N)
write_table(curves, snakemake.output.curves, FLOAT_FORMAT)
write_table(hmap, snakemake.output.map, FLOAT_FORMAT)
