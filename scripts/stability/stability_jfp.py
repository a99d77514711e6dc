"""Rule stability_jfp: J_FP per realization and N, Hopf vs zero-frequency fractions, and the
rightmost eigenvalue vs the random-matrix bulk edge (tables/bulk_edge_theory.csv)."""
from stdnet.files.tables import read_table
from stdnet.plotting import model_caption, save_figure
from stdnet.plotting.stability import bulk_figure, jfp_figure
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p, out = snakemake.params, snakemake.output
m = p.model
jfp = read_table(snakemake.input.jfp)
spec = read_table(snakemake.input.spectra)
curves = read_table(snakemake.input.theory)
params_text = model_caption(m)
counts = ", ".join(f"N = {N}: {len(g)} seeds" for N, g in jfp.groupby("N"))
text = ("J_FP: coupling where the rightmost eigenvalue of the (N + N_E)-dimensional Jacobian "
        "at the homogeneous fixed point crosses zero (rightmost eigenvalues by dense or "
        f"shift-invert solves for small N, matrix-free Krylov-Schur otherwise; bracket of "
        f"{p.tol:g} in J0 by regula falsi / bisection); crossing kind from its imaginary "
        f"part. {counts}. Dashed: bulk-theory estimate. {params_text}.")
save_figure(jfp_figure(jfp, text), out.png, out.pdf)
text = ("Rightmost eigenvalue of each realization's Jacobian at the homogeneous fixed point "
        "(symbols; ticks on Re λ = 0: measured J_FP) vs the rightmost point of the "
        "random-matrix bulk, ρ(V(λ)) = 1 with the depressed E→E gain Γ(λ) (lines). Below "
        "the transition the rightmost eigenvalue sits in the cluster of depression modes "
        f"near -(1/τ_D + u ν_E). {params_text}.")
save_figure(bulk_figure(spec, jfp, curves, text), out.bulk_png, out.bulk_pdf)
