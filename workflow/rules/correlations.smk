# correlations stage (docs/correlations.md): each chaotic run is continued while the input of
# sampled neurons is recorded block by block (record_inputs); the aggregate decomposes the
# input covariance into shared-input and presynaptic-correlation terms, with noise floors,
# fits in N and the asynchrony of the population rates (correlations).
CORR = config["correlations"]

for _j in CORR["J0"]:
    if format_J0(_j) not in GRID_J0:
        raise ValueError(
            f"config key 'correlations.J0': value {_j} is not allowed; "
            f"allowed: values of grid.J0 {config['grid']['J0']}"
        )
CORR_J0 = sorted({format_J0(j) for j in CORR["J0"]}, key=float) or [
    j for j in GRID_J0 if float(j) >= CORR["J0_min"]
]
# (N, J0, seed) of the recordings: the grid, or the configured (N, seeds) blocks
CORR_GRID = sorted(
    {
        (int(N), J0, int(s))
        for block in (CORR["runs"] or [{"N": GRID_N, "seeds": GRID_SEEDS}])
        for N in block["N"]
        for s in block["seeds"]
        for J0 in CORR_J0
    },
    key=lambda g: (g[0], float(g[1]), g[2]),
)
CORR_N = sorted({N for N, _, _ in CORR_GRID})


rule record_inputs:
    input:
        sim=f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/simulation.h5",
    output:
        h5=f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/inputs.h5",
    log:
        f"{RESULTS}/logs/record_inputs/N~{{N}}_J0~{{J0}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/record_inputs/N~{{N}}_J0~{{J0}}_seed~{{seed}}.tsv"
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
