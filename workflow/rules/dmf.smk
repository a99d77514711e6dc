# dmf stage (docs/dmf.md): DMF solves per (N, J0, I0) and the comparison of every simulated
# N with the DMF of that same N (paper Fig 5, errors vs K); the input recordings and
# CORR_GRID come from correlations.smk (included before this file).
from stdnet.dmfcompare import dmf_solve_points

DMF = config["dmf"]


DMF_J0 = sorted({format_J0(j) for j in (DMF["J0"] or config["grid"]["J0"])}, key=float)
MODEL_I0 = format_J0(config["model"]["I0"])
# model.I0 is always solved: the simulations exist only there
DMF_I0 = sorted({format_J0(i) for i in DMF["I0"]} | {MODEL_I0}, key=float)
# the simulations compared with the DMF: the grid's and those of the correlation recordings
DMF_SIMS = sorted(set(GRID) | set(CORR_GRID), key=lambda g: (g[0], float(g[1]), g[2]))
DMF_SIM_N = sorted({N for N, _, _ in DMF_SIMS})
DMF_FIG_N = DMF["figure_N"] or max(GRID_N)
if DMF_FIG_N not in DMF_SIM_N:
    raise ValueError(f"config key 'dmf.figure_N': value {DMF['figure_N']} is not allowed; "
                     f"allowed: 0 (the largest grid N) or a simulated N {DMF_SIM_N} "
                     "(grid.N and the N of correlations.runs)")


# finite K: at each simulated N the J0 of dmf.J0 that have simulations there (model.I0), plus
# the J0 x I0 sweep of Fig 5 at figure_N; balanced limit: one solve per (J0, I0), N~inf
DMF_POINTS = dmf_solve_points(DMF_SIMS, DMF_J0, DMF_I0, MODEL_I0, DMF_FIG_N, DMF["finite_K"])
DMF_FILES = [f"{RESULTS}/dmf/N~{N}/J0~{J0}_I0~{I0}/dmf.h5" for N, J0, I0 in DMF_POINTS]


wildcard_constraints:
    I0=r"-?\d+(\.\d+)?",


rule dmf_solve:
    conda:
        CONDA_ENV
    output:
        h5=f"{RESULTS}/dmf/N~{{N}}/J0~{{J0}}_I0~{{I0}}/dmf.h5",
    wildcard_constraints:
        N=r"\d+" if DMF["finite_K"] else "inf",
    params:
        model=lambda wc: {**config["model"], "I0": float(wc.I0)},
        J0=lambda wc: float(wc.J0),
        # the N whose K_E enters the finite-K mean equation; the balanced limit does not
        # depend on N and builds its model parameters at figure_N
        N=lambda wc: DMF_FIG_N if wc.N == "inf" else int(wc.N),
        dmf=DMF,
    log:
        f"{RESULTS}/logs/dmf_solve/N~{{N}}_J0~{{J0}}_I0~{{I0}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_solve/N~{{N}}_J0~{{J0}}_I0~{{I0}}.tsv"
    threads: 1
    resources:
        mem_mb=cost_mem_mb("dmf_solve"),
        runtime=cost_runtime("dmf_solve"),
    script:
        "../../scripts/dmf_solve.py"


rule dmf_compare:
    conda:
        CONDA_ENV
    input:
        dmf=DMF_FILES,
        sims=grid_files("simulation.h5", DMF_SIMS),
        inputs=grid_files("inputs.h5", CORR_GRID),
    output:
        table=f"{RESULTS}/tables/dmf_vs_simulation.csv",
        fits=f"{RESULTS}/tables/dmf_error_fits.csv",
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
        model=config["model"],
        dmf=DMF,
        figure_N=DMF_FIG_N,
        corr_max_lag=CORR["max_lag"],
    log:
        f"{RESULTS}/logs/dmf_compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/dmf_compare.tsv"
    resources:
        mem_mb=cost_mem_mb("dmf_compare"),
        runtime=cost_runtime("dmf_compare"),
    script:
        "../../scripts/dmf_compare.py"


add_targets("dmf", [rules.dmf_compare.output.table, rules.dmf_compare.output.fits])
