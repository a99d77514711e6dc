# Lyapunov stage: exponents of every run from its simulation's final state, one table,
# figures (lambda_max vs J0, convergence, Kaplan-Yorke dimension).
from stdnet.lyapunov.sequential import without_unset

LYAP = config["lyapunov"]
# the rule's params without the sequential-look and cycle-check keys at their defaults: results made before
# those keys existed keep their params, so they are not re-run (the run is the same)
LYAP_RULE = without_unset(LYAP)
LYAP_NOTE = (
    f"m = {LYAP['n_exponents']} exponents"
    f"{' (' + str(LYAP['spectrum_exponents']) + ' at J0 = ' + str(LYAP['spectrum_J0']) + ')' if LYAP['spectrum_J0'] else ''}, QR every {LYAP['delta_t']} tau, basis aligned "
    f"for {LYAP['t_align']} tau, averaged over {LYAP['t_average']} tau from the final state "
    f"of a {config['simulation']['t_transient']}+{config['simulation']['t_record']} tau "
    f"simulation (extended up to {LYAP['max_extensions']} times by {LYAP['t_average']} tau while "
    f"the chaos decision is undecided"
    f"{', looking every ' + str(LYAP['look_every']) + ' tau' if LYAP.get('look_every') else ''}"
    f"{'; an undecided first look with |lambda_max| < zero_tol first checks up to ' + str(LYAP['cycle_check']) + ' tau of trajectory for a stable periodic orbit, which ends the run not chaotic' if LYAP.get('cycle_check') else ''}"
    f"); {config['simulation']['method'].upper()} dt = {config['simulation']['dt']}; "
    + (
        f"CI at level 1 - {LYAP['sequential_alpha']}/K for K looks (error-controlled) from "
        if LYAP.get("sequential_alpha") is not None
        else f"{LYAP['confidence']:.0%} CI from "
    )
    + (
        "batch means (batches of 10 integrated autocorrelation times)"
        if LYAP["ci_method"] == "batch_means"
        else f"{LYAP['n_blocks']} block means"
    )
    + f". Model: {config['model']}."
)


rule lyapunov:
    input:
        sim=f"{RUN}/simulation.h5",
    output:
        h5=f"{RUN}/lyapunov.h5",
    log:
        f"{RESULTS}/logs/lyapunov/{POINT}.log",
    benchmark:
        f"{RESULTS}/benchmarks/lyapunov/{POINT}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("lyapunov")
    resources:
        mem_mb=cost_mem_mb("lyapunov"),
        runtime=cost_runtime("lyapunov"),
    params:
        model=config["model"],
        lyapunov=LYAP_RULE,
        simulation=simulation_settings(),
        seed=lambda wc: int(wc.seed),
        zero_tol=config["transition"]["zero_tol"],  # the chaos decision (extensions while undecided)
    script:
        "../../scripts/lyapunov/lyapunov.py"


rule lyapunov_table:
    input:
        runs=grid_files("lyapunov.h5"),
    output:
        table=report(
            kept(f"{RESULTS}/tables/lyapunov.csv"),
            caption="../report/lyapunov_table.rst",
            category="3. Lyapunov exponents",
        ),
    log:
        f"{RESULTS}/logs/lyapunov/table.log",
    benchmark:
        f"{RESULTS}/benchmarks/lyapunov/table.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../../scripts/lyapunov/lyapunov_table.py"


rule lyapunov_figures:
    input:
        table=rules.lyapunov_table.output.table,
        # convergence panel: every J0 of the largest N, first seed
        convergence=[
            f"{run_dir(GRID_N[-1], j, GRID_SEEDS[0])}/lyapunov.h5" for j in GRID_J0
        ],
    output:
        lambda_png=report(
            kept(f"{RESULTS}/figures/lyapunov_lambda_max.png"),
            caption="../report/lyapunov_lambda_max.rst",
            category="3. Lyapunov exponents",
        ),
        lambda_pdf=kept(f"{RESULTS}/figures/lyapunov_lambda_max.pdf"),
        convergence_png=report(
            kept(f"{RESULTS}/figures/lyapunov_convergence.png"),
            caption="../report/lyapunov_convergence.rst",
            category="3. Lyapunov exponents",
        ),
        convergence_pdf=kept(f"{RESULTS}/figures/lyapunov_convergence.pdf"),
        ky_png=report(
            kept(f"{RESULTS}/figures/lyapunov_kaplan_yorke.png"),
            caption="../report/lyapunov_kaplan_yorke.rst",
            category="3. Lyapunov exponents",
        ),
        ky_pdf=kept(f"{RESULTS}/figures/lyapunov_kaplan_yorke.pdf"),
    log:
        f"{RESULTS}/logs/lyapunov/figures.log",
    benchmark:
        f"{RESULTS}/benchmarks/lyapunov/figures.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        note=LYAP_NOTE,
    script:
        "../../scripts/lyapunov/lyapunov_figures.py"
