# dmf stage (docs/dmf.md): DMF solves per (N, J0, I0) and the comparison of every simulated
# N with the DMF of that same N (paper Fig 5, errors vs K); the input recordings come from
# correlations.smk (included before this file), the points from PLAN (stdnet.workflow.plan).

DMF = config["dmf"]
# the simulations compared with the DMF: the grid's and those of the correlation recordings
DMF_SIMS = PLAN.grid_and_recordings
# finite K: at each simulated N the J0 of dmf.J0 that have simulations there (model.I0), plus
# the J0 x I0 sweep of Fig 5 at figure_N; balanced limit: one solve per (J0, I0), N~inf.
# dmf.figure_N 0 is the largest grid N; another value must be a simulated N (ValueError).
DMF_PLAN = PLAN.dmf
DMF_FIG_N = DMF_PLAN.figure_N
DMF_FILES = [
    f"{RESULTS}/dmf/N~{N}/J0~{J0}_I0~{I0}/dmf.h5" for N, J0, I0 in DMF_PLAN.points
]


wildcard_constraints:
    I0=r"-?\d+(\.\d+)?",


rule dmf_solve:
    output:
        h5=f"{RESULTS}/dmf/N~{{N}}/J0~{{J0}}_I0~{{I0}}/dmf.h5",
    log:
        f"{RESULTS}/logs/dmf_solve/N~{{N}}_J0~{{J0}}_I0~{{I0}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_solve/N~{{N}}_J0~{{J0}}_I0~{{I0}}.tsv"
    wildcard_constraints:
        N=r"\d+" if DMF["finite_K"] else "inf",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=cost_mem_mb("dmf_solve"),
        runtime=cost_runtime("dmf_solve"),
    params:
        model=lambda wc: {**config["model"], "I0": float(wc.I0)},
        J0=lambda wc: float(wc.J0),
        # the N whose K_E enters the finite-K mean equation; the balanced limit does not
        # depend on N and builds its model parameters at figure_N
        N=lambda wc: DMF_FIG_N if wc.N == "inf" else int(wc.N),
        dmf=DMF,
    script:
        "../../scripts/dmf/dmf_solve.py"


rule dmf_compare:
    input:
        dmf=DMF_FILES,
        sims=grid_files("simulation.h5", DMF_SIMS),
        inputs=grid_files("inputs.h5", CORR_GRID),
    output:
        table=kept(f"{RESULTS}/tables/dmf_vs_simulation.csv"),
        fits=kept(f"{RESULTS}/tables/dmf_error_fits.csv"),
        fig5=report(
            kept(f"{RESULTS}/figures/dmf_vs_simulation.png"),
            caption="../report/dmf_vs_simulation.rst",
            category="5. Dynamical mean field",
        ),
        fig5_pdf=kept(f"{RESULTS}/figures/dmf_vs_simulation.pdf"),
        approach=report(
            kept(f"{RESULTS}/figures/dmf_approach.png"),
            caption="../report/dmf_approach.rst",
            category="5. Dynamical mean field",
        ),
        approach_pdf=kept(f"{RESULTS}/figures/dmf_approach.pdf"),
        convergence=report(
            kept(f"{RESULTS}/figures/dmf_convergence.png"),
            caption="../report/dmf_convergence.rst",
            category="5. Dynamical mean field",
        ),
        convergence_pdf=kept(f"{RESULTS}/figures/dmf_convergence.pdf"),
    log:
        f"{RESULTS}/logs/dmf_compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_compare.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=cost_mem_mb("dmf_compare"),
        runtime=cost_runtime("dmf_compare"),
    params:
        model_I0=config["model"]["I0"],
        model=config["model"],
        dmf=DMF,
        figure_N=DMF_FIG_N,
        corr_max_lag=CORR["max_lag"],
    script:
        "../../scripts/dmf/dmf_compare.py"
