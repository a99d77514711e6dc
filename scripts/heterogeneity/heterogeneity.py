"""Rule heterogeneity: the networks gathered with the theory's lines vs K and its phase
diagram, J_ch and the widths of the searched networks, the verdict and the four figures
(stdnet.heterogeneity.stage)."""
from stdnet.files.io import write_text
from stdnet.files.tables import write_table
from stdnet.heterogeneity.point import read_point
from stdnet.heterogeneity.stage import (
    GROWTH_KEYS,
    collect_onsets,
    collect_points,
    growth_exponents,
    onset_verdict,
    phase_table,
    theory_deviation,
    theory_lines,
    verdict,
    width_per_N,
    width_table,
)
from stdnet.plotting import save_figure
from stdnet.plotting.heterogeneity import (
    phase_figure,
    rate_distribution_figure,
    scaling_figure,
    width_figure,
)
from stdnet.workflow.runtime import setup

log = setup(snakemake)
out, model, section = snakemake.output, snakemake.params.model, snakemake.params.heterogeneity
points = collect_points(snakemake.input.points)
theory = theory_lines(model, section)
phase = phase_table(model, section)
growth = growth_exponents(points, GROWTH_KEYS)
deviation = theory_deviation(points)
widths = width_table(points, collect_onsets(snakemake.input.onsets))
per_N = width_per_N(widths)
for table, path in ((points, out.points), (theory, out.theory), (phase, out.phase),
                    (growth, out.growth), (deviation, out.deviation), (widths, out.onset),
                    (per_N, out.width)):
    write_table(table, path)
write_text(out.verdict, verdict(points, theory, growth, deviation, section) + "\n"
           + onset_verdict(widths, per_N, section))
# the rate distributions of the first realization at the largest N of each ensemble
N_max, first_seed = int(points.N.max()), int(points.seed.min())
files = {ens: read_point(p) for p in snakemake.input.points
         for ens in [p.split("/heterogeneity/")[1].split("/")[0]]
         if f"/N~{N_max}/seed~{first_seed}/" in p}
save_figure(rate_distribution_figure(files, section, model), out.rates_png, out.rates_pdf)
save_figure(scaling_figure(points, theory, section, model), out.scaling_png, out.scaling_pdf)
save_figure(phase_figure(phase, points, section, model), out.phase_png, out.phase_pdf)
save_figure(width_figure(widths, per_N, section, model), out.width_png, out.width_pdf)
log.info("wrote %s and the figures", out.points)
