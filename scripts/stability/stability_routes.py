"""Rule stability_routes: spectra just below/above J_FP for one realization of each crossing
kind, with the activity just above it (paper Fig 8A-B): stability/routes.h5, and the
figure drawn from it."""
from stdnet.files.tables import read_table
from stdnet.model.params import ModelParams
from stdnet.plotting import model_caption, save_figure
from stdnet.plotting.stability import routes_figure
from stdnet.stability.routes import read_routes, route_cases, write_routes
from stdnet.stability.spectrum import DENSE_EIG_N_MAX
from stdnet.workflow.runtime import setup

log = setup(snakemake)
p = snakemake.params
cfg, m, out = p.routes, p.model, snakemake.output
N = int(p.N)
model = ModelParams.from_config(m, N=N, J0=0.0)  # J0: set per case by route_cases
jfp = read_table(snakemake.input.jfp)
cases = route_cases(model, jfp, cfg["dJ"], cfg["t_sim"], p.dt, p.method)
write_routes(out.h5, cases, {**m, "N": N, **cfg, "dt": p.dt, "method": p.method})
text = (f"Spectra of the (N + N_E)-dimensional Jacobian at the homogeneous fixed point, "
        f"N = {N}, just below (grey) and above (colour) J_FP ± {cfg['dJ']} for one "
        "realization of each kind of crossing (dense eig for N <= "
        f"{DENSE_EIG_N_MAX}, otherwise the eigenvalues near the right edge). Insets: rates of "
        f"recorded E (vermillion) and I (blue) neurons simulated for {cfg['t_sim']:g} τ just above "
        f"J_FP ({p.method.upper()}, dt = {p.dt}). {model_caption(model)}.")
save_figure(routes_figure(read_routes(out.h5), text), out.png, out.pdf)
