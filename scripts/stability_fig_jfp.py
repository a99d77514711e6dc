"""Rule fig_jfp: J_FP per realization and N, Hopf vs zero-frequency fractions, and the
rightmost eigenvalue vs the random-matrix bulk edge."""
import numpy as np
import pandas as pd

from stdnet.bulk import bulk_edge
from stdnet.meanfield import fixed_point_branch
from stdnet.params import ModelParams
from stdnet.plotting import save_figure
from stdnet.plotting.stability import bulk_figure, jfp_figure
from stdnet.runtime import setup

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
m = p.model
jfp = pd.read_csv(snakemake.input.jfp)  # noqa: F821
spec = pd.read_csv(snakemake.input.spectra)  # noqa: F821
theory = jfp.groupby("N").J_FP_bulk.first().to_dict()
params_text = (f"g = ({m['g_EE']}, {m['g_EI']}, {m['g_IE']}, {m['g_II']}), u = {m['u']}, "
               f"τ_D = {m['tau_D']} τ, c = {m['c']}, φ = {m['transfer']}, I0 = {m['I0']}")
counts = ", ".join(f"N = {N}: {len(g)} seeds" for N, g in jfp.groupby("N"))
text = ("J_FP: coupling where the rightmost eigenvalue of the (N + N_E)-dimensional Jacobian "
        "at the homogeneous fixed point crosses zero (rightmost eigenvalues by dense or "
        f"shift-invert solves for small N, matrix-free Krylov-Schur otherwise; bracket of "
        f"{p.tol:g} in J0 by regula falsi / bisection); crossing kind from its imaginary part. {counts}. "
        f"Dashed: bulk-theory estimate. {params_text}.")
save_figure(jfp_figure(jfp, theory, text), snakemake.output.png, snakemake.output.pdf)  # noqa: F821
rows = []
J0s = np.linspace(*p.edge_J0, 17)
for N in sorted(set(spec.N) | set(jfp.N)):
    base = ModelParams.from_config(m, N=int(N), J0=float(J0s[0]))
    for J0, fp in zip(J0s, fixed_point_branch(base, J0s)):
        edge, w = bulk_edge(base.replace(J0=float(J0)), fp)
        rows.append({"N": N, "J0": J0, "edge_re": edge, "edge_im": w})
curves = pd.DataFrame(rows)
text = ("Rightmost eigenvalue of each realization's Jacobian at the homogeneous fixed point "
        "(symbols; ticks on Re λ = 0: measured J_FP) vs the rightmost point of the "
        "random-matrix bulk, ρ(V(λ)) = 1 with the depressed E→E gain Γ(λ) (lines). Below "
        "the transition the rightmost eigenvalue sits in the cluster of depression modes "
        f"near -(1/τ_D + u ν_E). {params_text}.")
save_figure(bulk_figure(spec, jfp, curves, text), snakemake.output.bulk_png,  # noqa: F821
            snakemake.output.bulk_pdf)  # noqa: F821
