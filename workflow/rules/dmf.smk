# dmf stage (issue 6, docs/dmf.md): DMF solves per (J0, I0), input-correlation
# measurements per (N, J0, seed) in the chaotic regime, their aggregate over N,
# and the comparison of DMF and simulations (paper Fig 5).
DMF = config["dmf"]


DMF_J0 = sorted({format_J0(j) for j in (DMF["J0"] or config["grid"]["J0"])}, key=float)
# model.I0 is always solved: the simulations exist only there
DMF_I0 = sorted({format_J0(i) for i in set(DMF["I0"]) | {config["model"]["I0"]}}, key=float)
for _j in DMF["correlations"]["J0"]:
    if format_J0(_j) not in GRID_J0:
        raise ValueError(f"config key 'dmf.correlations.J0': value {_j} is not allowed; "
                         f"allowed: values of grid.J0 {config['grid']['J0']}")
CORR_J0 = (sorted({format_J0(j) for j in DMF["correlations"]["J0"]}, key=float)
           or [j for j in GRID_J0 if float(j) >= DMF["correlations"]["J0_min"]])
CORR_GRID = [(N, J0, s) for N, J0, s in GRID if J0 in CORR_J0]
DMF_N_FINITE = DMF["N_finite_K"] or max(GRID_N)
DMF_FILES = [f"{RESULTS}/dmf/J0~{J0}_I0~{I0}/dmf.h5" for J0 in DMF_J0 for I0 in DMF_I0]


wildcard_constraints:
    I0=r"-?\d+(\.\d+)?",


rule dmf_solve:
    conda:
        CONDA_ENV
    output:
        h5=f"{RESULTS}/dmf/J0~{{J0}}_I0~{{I0}}/dmf.h5",
    params:
        model=lambda wc: {**config["model"], "I0": float(wc.I0)},
        J0=lambda wc: float(wc.J0),
        N=DMF_N_FINITE,
        dmf=DMF,
    log:
        f"{RESULTS}/logs/dmf_solve/J0~{{J0}}_I0~{{I0}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_solve/J0~{{J0}}_I0~{{I0}}.tsv"
    threads: 1
    script:
        "../../scripts/dmf_solve.py"


rule dmf_inputs:
    conda:
        CONDA_ENV
    input:
        sim=f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/simulation.h5",
    output:
        h5=f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/inputs.h5",
    params:
        model=model_params,
        simulation=config["simulation"],
        correlations=DMF["correlations"],
        seed=lambda wc: int(wc.seed),
    log:
        f"{RESULTS}/logs/dmf_inputs/N~{{N}}_J0~{{J0}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_inputs/N~{{N}}_J0~{{J0}}_seed~{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc: simulation_mem_mb(int(wc.N)),
    script:
        "../../scripts/dmf_inputs.py"


rule dmf_correlations:
    conda:
        CONDA_ENV
    input:
        inputs=grid_files("inputs.h5", CORR_GRID),
    output:
        table=f"{RESULTS}/tables/dmf_correlations.csv",
        fits=f"{RESULTS}/tables/dmf_correlation_fits.csv",
        png=report(f"{RESULTS}/figures/dmf_correlations.png",
                   caption="../report/dmf_correlations.rst", category="dmf"),
        pdf=f"{RESULTS}/figures/dmf_correlations.pdf",
    log:
        f"{RESULTS}/logs/dmf_correlations.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_correlations.tsv"
    script:
        "../../scripts/dmf_correlations.py"


rule dmf_compare:
    conda:
        CONDA_ENV
    input:
        dmf=DMF_FILES,
        sims=grid_files("simulation.h5"),
        inputs=grid_files("inputs.h5", CORR_GRID),
    output:
        table=f"{RESULTS}/tables/dmf_vs_simulation.csv",
        fig5=report(f"{RESULTS}/figures/dmf_fig5.png",
                    caption="../report/dmf_fig5.rst", category="dmf"),
        fig5_pdf=f"{RESULTS}/figures/dmf_fig5.pdf",
        approach=report(f"{RESULTS}/figures/dmf_approach.png",
                        caption="../report/dmf_approach.rst", category="dmf"),
        approach_pdf=f"{RESULTS}/figures/dmf_approach.pdf",
        convergence=report(f"{RESULTS}/figures/dmf_convergence.png",
                           caption="../report/dmf_convergence.rst", category="dmf"),
        convergence_pdf=f"{RESULTS}/figures/dmf_convergence.pdf",
    params:
        model_I0=config["model"]["I0"],
        dmf=DMF,
        N_finite=DMF_N_FINITE,
    log:
        f"{RESULTS}/logs/dmf_compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_compare.tsv"
    script:
        "../../scripts/dmf_compare.py"


add_targets("dmf", [rules.dmf_compare.output.table, rules.dmf_correlations.output.table])
