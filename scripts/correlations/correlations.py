"""Rule correlations: the cancellation per block vs N, its fits, and the asynchrony verdict
(stdnet.correlations.stage)."""
from stdnet.correlations.stage import analyse_recordings, write_tables
from stdnet.plotting import save_figure
from stdnet.plotting.correlations import asynchrony_figure, cancellation_figure
from stdnet.workflow.runtime import setup

log = setup(snakemake)
inp, out = snakemake.input, snakemake.output
res = analyse_recordings(inp.inputs, snakemake.params.correlations)
write_tables(out, res)
save_figure(cancellation_figure(res["per_N"], res["fits"], res["info"]), out.png, out.pdf)
save_figure(asynchrony_figure(res["asynchrony"], res["asynchrony_fits"], res["spectra"],
                              res["info"]), out.async_png, out.async_pdf)
log.info("wrote %s and the figures", out.terms)
