# The simulation stage: one trajectory per grid point, the table of all runs, and the
# figures of the simulations (paper Figs 1 and 2).


rule simulate:
    output:
        h5=f"{RUN}/simulation.h5",
    log:
        f"{RESULTS}/logs/simulate/{POINT}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate/{POINT}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("simulate")
    resources:
        mem_mb=cost_mem_mb("simulate"),
        runtime=cost_runtime("simulate"),
        gpu=cost_gpus("simulate"),
    params:
        model=config["model"],
        simulation=simulation_settings(),
        seed=lambda wc: int(wc.seed),
        checkpoint=lambda wc: f"{run_dir(wc.N, wc.J0, wc.seed)}/simulation.checkpoint.h5",
    script:
        "../../scripts/simulation/simulate.py"


rule summarise:
    input:
        sims=grid_files("simulation.h5"),
    output:
        table=kept(f"{RESULTS}/tables/runs.csv"),
    log:
        f"{RESULTS}/logs/summarise.log",
    benchmark:
        f"{RESULTS}/benchmarks/summarise.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        fp_tolerance=config["summary"]["fp_tolerance"],
    script:
        "../../scripts/simulation/summarise.py"


# -- figures of the simulation stage (paper Figs 1 and 2) --
FIG1 = config["figures"]["fig1"]
FIG1_N = int(FIG1.get("N", GRID_N[-1]))
FIG1_SEED = int(FIG1.get("seed", GRID_SEEDS[0]))
FIG1_J0 = [format_J0(j) for j in FIG1.get("J0", config["grid"]["J0"][:3])]


rule simulation_regimes:
    input:
        sims=[f"{run_dir(FIG1_N, j, FIG1_SEED)}/simulation.h5" for j in FIG1_J0],
    output:
        png=report(
            kept(f"{RESULTS}/figures/simulation_regimes.png"),
            caption="../report/simulation_regimes.rst",
            category="1. Simulations",
        ),
        pdf=kept(f"{RESULTS}/figures/simulation_regimes.pdf"),
    log:
        f"{RESULTS}/logs/figures/simulation_regimes.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/simulation_regimes.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../../scripts/simulation/simulation_regimes.py"


rule fixed_point_theory:
    output:
        table=kept(f"{RESULTS}/tables/fixed_point_theory.csv"),
    log:
        f"{RESULTS}/logs/figures/fixed_point_theory.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/fixed_point_theory.tsv"
    # ~2000 fixed points of 2 equations: seconds, on the submitting host
    localrule: True
    conda:
        CONDA_ENV
    params:
        model=config["model"],
        fig=config["figures"]["fig2"],
        heat_N=GRID_N[-1],
    script:
        "../../scripts/simulation/fixed_point_theory.py"


rule meanfield_fixed_point:
    input:
        theory=rules.fixed_point_theory.output.table,
        runs=rules.summarise.output.table,
    output:
        png=report(
            kept(f"{RESULTS}/figures/meanfield_fixed_point.png"),
            caption="../report/meanfield_fixed_point.rst",
            category="1. Simulations",
        ),
        pdf=kept(f"{RESULTS}/figures/meanfield_fixed_point.pdf"),
    log:
        f"{RESULTS}/logs/figures/meanfield_fixed_point.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/meanfield_fixed_point.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        model=config["model"],
        fig=config["figures"]["fig2"],
        heat_N=GRID_N[-1],
    script:
        "../../scripts/simulation/meanfield_fixed_point.py"
