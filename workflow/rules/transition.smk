# Transition stage: regime of every run; per realization J_FP (stability stage), J_ch (the
# checkpointed onset search of onset.smk, else the J0 grid) and the width J_ch - J_FP; the
# width vs N compared across models (stdnet.transition.width); the power of the design; figures.
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
TRANS_ONSET = {"onset": rules.onset_table.output.table} if ONSET["search"] else {}
# the seeds of the J_FP table where stability.jfp.seeds chooses some (else the grid's): only
# then a param, so that the rule's params of earlier results stay the same
TRANS_JFP_SEEDS = (
    {"jfp_seeds": JFP_SEEDS}
    if TRANS_JFP and config["stability"]["jfp"]["seeds"]
    else {}
)
TRANS_NOTE = (
    f"Chaos when the lower {config['lyapunov']['confidence']:.0%} confidence bound of "
    f"lambda_max exceeds zero_tol = {TRANS['zero_tol']} (batch means, runs extended while "
    f"undecided; onset search policy for undecided probes: {ONSET['undecided']}); "
    f"temporal_sd_tol = {TRANS['temporal_sd_tol']}, spatial_sd_tol = {TRANS['spatial_sd_tol']}; "
    f"J_FP from {'the Jacobian of each realization (tol ' + str(config['stability']['jfp']['tol']) + ')' if TRANS_JFP else 'the regimes (grid)'}; "
    f"J_ch {('as the zero crossing of lambda_max over probes placed by bisection to ' if ONSET['estimator'] == 'crossing' else 'by bisection to ') + str(ONSET['resolution']) if ONSET['search'] else 'on the J0 grid'}. "
    f"Grid N = {GRID_N}, J0 = {GRID_J0}, seeds = {GRID_SEEDS}; "
    f"t_transient = {config['simulation']['t_transient']} tau, {config['simulation']['method'].upper()} dt = {config['simulation']['dt']}."
)


rule regimes:
    input:
        table=rules.lyapunov_table.output.table,
    output:
        table=report(
            kept(f"{RESULTS}/tables/regimes.csv"),
            caption="../report/transition_regimes.rst",
            category="4. Transition to chaos",
        ),
    log:
        f"{RESULTS}/logs/transition/regimes.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/regimes.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        transition=TRANS,
    script:
        "../../scripts/transition/regimes.py"


rule transition:
    input:
        **TRANS_JFP,
        **TRANS_ONSET,
        regimes=rules.regimes.output.table,
    output:
        table=report(
            kept(f"{RESULTS}/tables/transition.csv"),
            caption="../report/transition_table.rst",
            category="4. Transition to chaos",
        ),
        per_N=kept(f"{RESULTS}/tables/transition_width.csv"),
        fit=kept(f"{RESULTS}/tables/transition_fit.csv"),
        lrt=kept(f"{RESULTS}/tables/transition_lrt.csv"),
        limits=kept(f"{RESULTS}/tables/transition_limits.csv"),
        verdict=kept(f"{RESULTS}/tables/transition_verdict.txt"),
        bulk=kept(f"{RESULTS}/tables/transition_bulk.csv"),
    log:
        f"{RESULTS}/logs/transition/transition.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/transition.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        **TRANS_JFP_SEEDS,
        transition=TRANS,
        model=config["model"],
        J0_range=config["stability"]["jfp"]["J0_range"],
        jfp_N=JFP_N if TRANS_JFP else [],
    script:
        "../../scripts/transition/transition.py"


rule width_power:
    input:
        per_N=rules.transition.output.per_N,
        fit=rules.transition.output.fit,
    output:
        table=kept(f"{RESULTS}/tables/width_power.csv"),
    log:
        f"{RESULTS}/logs/transition/width_power.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/width_power.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        width=TRANS["width"],
    script:
        "../../scripts/transition/width_power.py"


rule transition_figures:
    input:
        regimes=rules.regimes.output.table,
        table=rules.transition.output.table,
        per_N=rules.transition.output.per_N,
        fit=rules.transition.output.fit,
        limits=rules.transition.output.limits,
        verdict=rules.transition.output.verdict,
        bulk=rules.transition.output.bulk,
    output:
        map_png=report(
            kept(f"{RESULTS}/figures/transition_regime_map.png"),
            caption="../report/transition_regime_map.rst",
            category="4. Transition to chaos",
        ),
        map_pdf=kept(f"{RESULTS}/figures/transition_regime_map.pdf"),
        width_png=report(
            kept(f"{RESULTS}/figures/transition_width.png"),
            caption="../report/transition_width.rst",
            category="4. Transition to chaos",
        ),
        width_pdf=kept(f"{RESULTS}/figures/transition_width.pdf"),
    log:
        f"{RESULTS}/logs/transition/figures.log",
    benchmark:
        f"{RESULTS}/benchmarks/transition/figures.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        note=TRANS_NOTE,
    script:
        "../../scripts/transition/transition_figures.py"
