"""Rule jacobian_spectrum: rightmost eigenvalues of one realization at fixed J0, with the
bulk-theory edge at the same J0."""
import time

from stdnet.bulk import bulk_edge
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.runtime import setup
from stdnet.spectrum import jacobian_blocks, rightmost_eigenvalues
from stdnet.stability import write_eigen_file

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
cfg = p.jfp
N, seed = int(p.N), int(p.seed)
targets = [complex(cfg["targets_re"], w) for w in cfg["targets_im"]]
spectra, attrs = {}, {"N": N, "seed": seed}
net = None
for i, J0 in enumerate(p.J0):
    t0 = time.perf_counter()
    model = ModelParams.from_config(p.model, N=N, J0=float(J0))
    net = net or build_network(model, seed)
    edge, w = bulk_edge(model)
    # shift-invert finds the eigenvalues nearest the targets: put them just right of the
    # predicted edge, so that the rightmost eigenvalues are among the nearest
    shift = max(cfg["targets_re"], edge + 0.02)
    ev = rightmost_eigenvalues(jacobian_blocks(model, net), k=cfg["k"],
                               targets=[complex(shift, t.imag) for t in targets],
                               maxiter=cfg["maxiter"], dense_max_N=cfg["dense_max_N"])
    spectra[float(J0)] = ev
    attrs.update({f"J0_{i}": float(J0), f"lam_re_{i}": ev[0].real,
                  f"lam_im_{i}": abs(ev[0].imag), f"edge_re_{i}": edge, f"edge_im_{i}": w})
    log.info("N=%d seed=%d J0=%g: rightmost %.5f%+.5fi, bulk edge %.5f at omega %.3f (%.1f s)",
             N, seed, J0, ev[0].real, abs(ev[0].imag), edge, w, time.perf_counter() - t0)
attrs["n_J0"] = len(p.J0)
write_eigen_file(snakemake.output.h5, model, seed, attrs, spectra)  # noqa: F821
