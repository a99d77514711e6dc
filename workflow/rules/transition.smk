# Transition stage: regime of every run, J_FP / J_ch / width / route per realization,
# width vs N with a power-law fit, figures (regime map, width vs N).
TRANS = config["transition"]
# J_FP from the stability stage when the workflow has its table (stability.smk is included
# before this file), else from our own regimes.
# (snakemake's `rules` raises WorkflowError, not AttributeError, for a missing rule)
TRANS_HAS_JFP = any(r.name == "jfp_table" for r in workflow.rules)
TRANS_JFP = (
    {"jfp": rules.jfp_table.output.table}
    if TRANS_HAS_JFP and TRANS["jfp_source"] == "auto"
    else {}
)
TRANS_NOTE = (
    f"Thresholds: zero_tol = {TRANS['zero_tol']}, temporal_sd_tol = {TRANS['temporal_sd_tol']}, "
    f"spatial_sd_tol = {TRANS['spatial_sd_tol']}; J_FP from "
    f"{'the stability stage' if TRANS_JFP else 'the regimes'}; "
    f"J_ch {'refined by ' + str(TRANS['refine_steps']) + ' bisection steps' if TRANS['refine'] else 'on the J0 grid'}. "
    f"Grid N = {GRID_N}, J0 = {GRID_J0}, seeds = {GRID_SEEDS}."
)


rule regimes:
    conda:
        CONDA_ENV
    input:
        table=rules.lyapunov_table.output.table,
    output:
        table=report(
            f"{RESULTS}/tables/regimes.csv",
            caption="../report/transition_regimes.rst",
            category="4. Transition to chaos",
        ),
    params:
        transition=TRANS,
    log:
        f"{RESULTS}/logs/transition/regimes.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/regimes.tsv"
    script:
        "../../scripts/transition_regimes.py"


rule transition:
    conda:
        CONDA_ENV
    input:
        regimes=rules.regimes.output.table,
        **TRANS_JFP,
    output:
        table=report(
            f"{RESULTS}/tables/transition.csv",
            caption="../report/transition_table.rst",
            category="4. Transition to chaos",
        ),
        per_N=f"{RESULTS}/tables/transition_width.csv",
        fit=f"{RESULTS}/tables/transition_fit.csv",
        refined=f"{RESULTS}/tables/transition_refined.csv",
    params:
        transition=TRANS,
        model=config["model"],
        simulation=config["simulation"],
        lyapunov=config["lyapunov"],
    log:
        f"{RESULTS}/logs/transition/transition.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/transition.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc: (
            simulation_mem_mb(GRID_N[-1]) + int(LYAP_MB_PER_NEURON * GRID_N[-1])
            if TRANS["refine"]
            else 1000
        ),
    script:
        "../../scripts/transition.py"


rule transition_figures:
    conda:
        CONDA_ENV
    input:
        regimes=rules.regimes.output.table,
        table=rules.transition.output.table,
        per_N=rules.transition.output.per_N,
        fit=rules.transition.output.fit,
    output:
        map_png=report(
            f"{RESULTS}/figures/transition_regime_map.png",
            caption="../report/transition_regime_map.rst",
            category="4. Transition to chaos",
        ),
        map_pdf=f"{RESULTS}/figures/transition_regime_map.pdf",
        width_png=report(
            f"{RESULTS}/figures/transition_width.png",
            caption="../report/transition_width.rst",
            category="4. Transition to chaos",
        ),
        width_pdf=f"{RESULTS}/figures/transition_width.pdf",
    params:
        note=TRANS_NOTE,
    log:
        f"{RESULTS}/logs/transition/figures.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/figures.tsv"
    script:
        "../../scripts/transition_figures.py"


ALL_TARGETS.extend(
    [
        rules.regimes.output.table,
        rules.transition.output.table,
        rules.transition.output.fit,
        rules.transition_figures.output.map_png,
        rules.transition_figures.output.width_png,
    ]
)
