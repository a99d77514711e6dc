# Figures of the simulation stage (paper Figs 1 and 2).
FIG1 = config["figures"]["fig1"]
FIG1_N = int(FIG1.get("N", GRID_N[-1]))
FIG1_SEED = int(FIG1.get("seed", GRID_SEEDS[0]))
FIG1_J0 = [format_J0(j) for j in FIG1.get("J0", config["grid"]["J0"][:3])]


rule fig1_regimes:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        sims=[f"{run_dir(FIG1_N, j, FIG1_SEED)}/simulation.h5" for j in FIG1_J0],
    output:
        png=report(
            f"{RESULTS}/figures/fig1_regimes.png",
            caption="../report/fig1_regimes.rst",
            category="1. Simulations",
        ),
        pdf=f"{RESULTS}/figures/fig1_regimes.pdf",
    log:
        f"{RESULTS}/logs/figures/fig1_regimes.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/fig1_regimes.tsv"
    script:
        "../../scripts/fig1_regimes.py"


rule fig2_fixed_point:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        runs=rules.summarise.output.table,
    output:
        png=report(
            f"{RESULTS}/figures/fig2_fixed_point.png",
            caption="../report/fig2_fixed_point.rst",
            category="1. Simulations",
        ),
        pdf=f"{RESULTS}/figures/fig2_fixed_point.pdf",
    params:
        model=config["model"],
        fig=config["figures"]["fig2"],
        heat_N=GRID_N[-1],
    log:
        f"{RESULTS}/logs/figures/fig2_fixed_point.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/fig2_fixed_point.tsv"
    script:
        "../../scripts/fig2_fixed_point.py"


add_targets("figures", [rules.fig1_regimes.output.png, rules.fig2_fixed_point.output.png])
