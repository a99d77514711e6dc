# correlations stage (docs/correlations.md): each chaotic run is continued while the input of
# sampled neurons is recorded block by block (record_inputs); the aggregate decomposes the
# input covariance into shared-input and presynaptic-correlation terms, with noise floors,
# fits in N and the asynchrony of the population rates (correlations).
CORR = config["correlations"]

# (N, J0, seed) of the recordings (stdnet.workflow.plan): the grid, or the configured
# (N, seeds) blocks, at correlations.J0 (else the grid J0 >= correlations.J0_min)
CORR_GRID = PLAN.correlation_grid


rule record_inputs:
    input:
        sim=f"{RUN}/simulation.h5",
    output:
        h5=f"{RUN}/inputs.h5",
    log:
        f"{RESULTS}/logs/record_inputs/{POINT}.log",
    benchmark:
        f"{RESULTS}/benchmarks/record_inputs/{POINT}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("record_inputs")
    resources:
        mem_mb=cost_mem_mb("record_inputs"),
        runtime=cost_runtime("record_inputs"),
        gpu=cost_gpus("record_inputs"),
    params:
        model=config["model"],
        simulation=simulation_settings(),
        correlations=CORR,
        seed=lambda wc: int(wc.seed),
    script:
        "../../scripts/correlations/record_inputs.py"


rule correlations:
    input:
        inputs=grid_files("inputs.h5", CORR_GRID),
    output:
        terms=kept(f"{RESULTS}/tables/correlation_terms.csv"),
        per_N=kept(f"{RESULTS}/tables/correlation_per_N.csv"),
        fits=kept(f"{RESULTS}/tables/correlation_fits.csv"),
        asynchrony=kept(f"{RESULTS}/tables/asynchrony.csv"),
        asynchrony_fits=kept(f"{RESULTS}/tables/asynchrony_fits.csv"),
        verdict=kept(f"{RESULTS}/tables/asynchrony_verdict.txt"),
        png=report(
            kept(f"{RESULTS}/figures/correlations_cancellation.png"),
            caption="../report/correlations.rst",
            category="6. Correlations",
        ),
        pdf=kept(f"{RESULTS}/figures/correlations_cancellation.pdf"),
        async_png=report(
            kept(f"{RESULTS}/figures/correlations_asynchrony.png"),
            caption="../report/asynchrony.rst",
            category="6. Correlations",
        ),
        async_pdf=kept(f"{RESULTS}/figures/correlations_asynchrony.pdf"),
    log:
        f"{RESULTS}/logs/correlations.log",
    benchmark:
        f"{RESULTS}/benchmarks/correlations.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=cost_mem_mb("correlations"),
        runtime=cost_runtime("correlations"),
    params:
        correlations=CORR,
    script:
        "../../scripts/correlations/correlations.py"
