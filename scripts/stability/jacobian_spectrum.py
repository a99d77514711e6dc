"""Rule jacobian_spectrum: rightmost eigenvalues of one realization at fixed J0, with the
bulk-theory edge at the same J0."""
from stdnet.model.params import ModelParams
from stdnet.stability.edge_check import fixed_j0_spectra, write_spectrum_file
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
cfg = p.jfp
model = ModelParams.from_config(p.model, N=int(p.N), J0=float(p.J0[0]))
targets = [complex(cfg["targets_re"], w) for w in cfg["targets_im"]]
attrs, spectra = fixed_j0_spectra(model, int(p.seed), p.J0, targets, k=cfg["k"],
                                  maxiter=cfg["maxiter"], dense_max_N=cfg["dense_max_N"])
write_spectrum_file(snakemake.output.h5, model, int(p.seed), attrs, spectra)
