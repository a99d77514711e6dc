# heterogeneity stage (docs/heterogeneity.md): networks of each named ensemble (Erdos-Renyi,
# gamma in-degrees with a CV and an E-I correlation, per-neuron STD constants) measured one
# by one (heterogeneity_point: the stationary state against the theory, J_FP of its branch,
# Rate Chaos with lambda_max), J_ch of the networks of heterogeneity.onset's ensembles
# (heterogeneity_onset: the onset search, one job per network), then gathered with the
# theory's lines vs K, its (CV, J0) phase diagram and the widths J_ch - J_FP
# (heterogeneity).
HET = config["heterogeneity"]


# the folder of one network: heterogeneity/<ensemble>/N~<N>/seed~<seed>
HET_POINT = heterogeneity_dir("{ensemble}", "{N}", "{seed}")
HET_NAME = "{ensemble}_N~{N}_seed~{seed}"


rule heterogeneity_point:
    output:
        h5=f"{HET_POINT}/point.h5",
    log:
        f"{RESULTS}/logs/heterogeneity_point/{HET_NAME}.log",
    benchmark:
        f"{RESULTS}/benchmarks/heterogeneity_point/{HET_NAME}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("heterogeneity_point")
    resources:
        mem_mb=cost_mem_mb("heterogeneity_point"),
        runtime=cost_runtime("heterogeneity_point"),
    params:
        model=config["model"],
        heterogeneity=lambda wc: het_settings(wc, onset=False),
        seed=lambda wc: int(wc.seed),
    script:
        "../../scripts/heterogeneity/heterogeneity_point.py"


rule heterogeneity_onset:
    output:
        json=f"{HET_POINT}/onset.json",
    log:
        f"{RESULTS}/logs/heterogeneity_onset/{HET_NAME}.log",
    benchmark:
        f"{RESULTS}/benchmarks/heterogeneity_onset/{HET_NAME}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("heterogeneity_onset")
    resources:
        mem_mb=cost_mem_mb("heterogeneity_onset"),
        runtime=cost_runtime("heterogeneity_onset"),
    params:
        model=config["model"],
        heterogeneity=lambda wc: het_settings(wc, onset=True),
        seed=lambda wc: int(wc.seed),
    script:
        "../../scripts/heterogeneity/heterogeneity_onset.py"


rule heterogeneity:
    input:
        points=[
            f"{heterogeneity_dir(e, N, s)}/point.h5"
            for e, N, s in PLAN.heterogeneity_points
        ],
        onsets=[
            f"{heterogeneity_dir(e, N, s)}/onset.json"
            for e, N, s in PLAN.heterogeneity_onsets
        ],
    output:
        points=kept(f"{RESULTS}/tables/heterogeneity_points.csv"),
        theory=kept(f"{RESULTS}/tables/heterogeneity_theory.csv"),
        phase=kept(f"{RESULTS}/tables/heterogeneity_phase.csv"),
        growth=kept(f"{RESULTS}/tables/heterogeneity_growth.csv"),
        deviation=kept(f"{RESULTS}/tables/heterogeneity_theory_check.csv"),
        onset=kept(f"{RESULTS}/tables/heterogeneity_onset.csv"),
        width=kept(f"{RESULTS}/tables/heterogeneity_width.csv"),
        verdict=kept(f"{RESULTS}/tables/heterogeneity_verdict.txt"),
        rates_png=report(
            kept(f"{RESULTS}/figures/heterogeneity_rates.png"),
            caption="../report/heterogeneity.rst",
            category="7. Heterogeneity",
        ),
        rates_pdf=kept(f"{RESULTS}/figures/heterogeneity_rates.pdf"),
        scaling_png=report(
            kept(f"{RESULTS}/figures/heterogeneity_scaling.png"),
            caption="../report/heterogeneity.rst",
            category="7. Heterogeneity",
        ),
        scaling_pdf=kept(f"{RESULTS}/figures/heterogeneity_scaling.pdf"),
        phase_png=report(
            kept(f"{RESULTS}/figures/heterogeneity_phase.png"),
            caption="../report/heterogeneity.rst",
            category="7. Heterogeneity",
        ),
        phase_pdf=kept(f"{RESULTS}/figures/heterogeneity_phase.pdf"),
        width_png=report(
            kept(f"{RESULTS}/figures/heterogeneity_width.png"),
            caption="../report/heterogeneity.rst",
            category="7. Heterogeneity",
        ),
        width_pdf=kept(f"{RESULTS}/figures/heterogeneity_width.pdf"),
    log:
        f"{RESULTS}/logs/heterogeneity.log",
    benchmark:
        f"{RESULTS}/benchmarks/heterogeneity.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=cost_mem_mb("heterogeneity"),
        runtime=cost_runtime("heterogeneity"),
    params:
        model=config["model"],
        heterogeneity=HET,
    script:
        "../../scripts/heterogeneity/heterogeneity.py"
