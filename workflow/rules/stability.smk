# Linear stability of the homogeneous fixed point and the two routes out of it
# (issue 4; MODEL.md section 3; paper Figs 3 and 8). Appends its final outputs to ALL_TARGETS.
# Interface used by the transition stage: rule jfp_table, output `table` (tables/jfp.csv),
# one row per (N, seed) with N, seed, J_FP, crossing (hopf | real | none), frequency.
from stdnet.spectrum import DENSE_N_MAX
from stdnet.stability import JFP_DENSE_N_MAX, jfp_method

STAB = config["stability"]
# J_FP solver (stability.jfp.method): the dense ones factorise N x N matrices and stop at
# JFP_DENSE_N_MAX (dense eig 1500, shift-invert 4000); matrix_free (and auto, which uses it
# above dense_max_N) takes any N, so grid.N is used whole
JFP_METHOD = STAB["jfp"]["method"]
JFP_N_LIMIT = JFP_DENSE_N_MAX.get(JFP_METHOD)
JFP_N = [int(n) for n in (STAB["jfp"]["N"]
                          or [n for n in GRID_N if JFP_N_LIMIT is None or n <= JFP_N_LIMIT])]
for _N in JFP_N:
    try:
        jfp_method(JFP_METHOD, _N, STAB["jfp"]["dense_max_N"])
    except ValueError as err:
        raise ValueError(f"config key 'stability.jfp.method' (with stability.jfp.N = {JFP_N}): "
                         f"{err}") from None
JFP_SEEDS = [int(s) for s in (STAB["jfp"]["seeds"] or GRID_SEEDS)]
ROUTES_N = int(STAB["routes"]["N"] or min(JFP_N, default=min(GRID_N)))
MAP_N = int(STAB["homogeneous"]["map_N"] or max(GRID_N))
STAB_RUNS = [f"{RESULTS}/stability/N~{N}/seed~{s}" for N in JFP_N for s in JFP_SEEDS]
# the fixed-J0 spectra (scripts/stability_spectrum.py) still use the dense shift-invert
# solver: only sizes it can take
SPECTRUM_RUNS = [f"{RESULTS}/stability/N~{N}/seed~{s}" for N in JFP_N if N <= DENSE_N_MAX
                 for s in JFP_SEEDS]


rule homogeneous_modes:
    conda:
        CONDA_ENV
    # 3 x 3 eigenvalues on a few thousand points: seconds, on the submitting host
    localrule: True
    output:
        curves=f"{RESULTS}/tables/homogeneous_modes.csv",
        map=f"{RESULTS}/tables/homogeneous_map.csv",
    params:
        model=config["model"],
        homogeneous=STAB["homogeneous"],
        map_N=MAP_N,
    log:
        f"{RESULTS}/logs/stability/homogeneous_modes.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/homogeneous_modes.tsv"
    threads: 1
    script:
        "../../scripts/stability_homogeneous.py"


rule fig3_homogeneous:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        curves=rules.homogeneous_modes.output.curves,
        map=rules.homogeneous_modes.output.map,
    output:
        png=report(
            f"{RESULTS}/figures/fig3_homogeneous_stability.png",
            caption="../report/stability_fig3.rst",
            category="2. Stability",
        ),
        pdf=f"{RESULTS}/figures/fig3_homogeneous_stability.pdf",
    params:
        model=config["model"],
    log:
        f"{RESULTS}/logs/stability/fig3_homogeneous.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/fig3_homogeneous.tsv"
    script:
        "../../scripts/stability_fig3.py"


rule jfp_search:
    conda:
        CONDA_ENV
    output:
        h5=f"{RESULTS}/stability/N~{{N}}/seed~{{seed}}/jfp.h5",
    params:
        model=config["model"],
        jfp=STAB["jfp"],
        N=lambda wc: int(wc.N),
        seed=lambda wc: int(wc.seed),
    log:
        f"{RESULTS}/logs/stability/jfp_search/N~{{N}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/jfp_search/N~{{N}}_seed~{{seed}}.tsv"
    threads: cost_threads("jfp_search")
    resources:
        mem_mb=cost_mem_mb("jfp_search"),
        runtime=cost_runtime("jfp_search"),
    script:
        "../../scripts/stability_jfp.py"


rule jacobian_spectrum:
    conda:
        CONDA_ENV
    output:
        h5=f"{RESULTS}/stability/N~{{N}}/seed~{{seed}}/spectrum.h5",
    params:
        model=config["model"],
        jfp=STAB["jfp"],
        J0=STAB["spectrum"]["J0"],
        N=lambda wc: int(wc.N),
        seed=lambda wc: int(wc.seed),
    log:
        f"{RESULTS}/logs/stability/jacobian_spectrum/N~{{N}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/jacobian_spectrum/N~{{N}}_seed~{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=cost_mem_mb("jacobian_spectrum"),
        runtime=cost_runtime("jacobian_spectrum"),
    script:
        "../../scripts/stability_spectrum.py"


rule jfp_table:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        jfp=[f"{d}/jfp.h5" for d in STAB_RUNS],
    output:
        table=f"{RESULTS}/tables/jfp.csv",
    log:
        f"{RESULTS}/logs/stability/jfp_table.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/jfp_table.tsv"
    script:
        "../../scripts/stability_jfp_table.py"


rule spectrum_table:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        spectra=[f"{d}/spectrum.h5" for d in SPECTRUM_RUNS],
    output:
        table=f"{RESULTS}/tables/spectrum_edge.csv",
    log:
        f"{RESULTS}/logs/stability/spectrum_table.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/spectrum_table.tsv"
    script:
        "../../scripts/stability_spectrum_table.py"


rule fig8_jfp:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        jfp=rules.jfp_table.output.table,
        spectra=rules.spectrum_table.output.table,
    output:
        png=report(
            f"{RESULTS}/figures/fig8_jfp.png",
            caption="../report/stability_jfp.rst",
            category="2. Stability",
        ),
        pdf=f"{RESULTS}/figures/fig8_jfp.pdf",
        bulk_png=report(
            f"{RESULTS}/figures/stability_bulk_edge.png",
            caption="../report/stability_bulk.rst",
            category="2. Stability",
        ),
        bulk_pdf=f"{RESULTS}/figures/stability_bulk_edge.pdf",
    params:
        model=config["model"],
        tol=STAB["jfp"]["tol"],
        edge_J0=STAB["jfp"]["J0_range"],
    log:
        f"{RESULTS}/logs/stability/fig8_jfp.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/fig8_jfp.tsv"
    script:
        "../../scripts/stability_fig_jfp.py"


rule fig8_routes:
    conda:
        CONDA_ENV
    input:
        jfp=rules.jfp_table.output.table,
    output:
        h5=f"{RESULTS}/stability/routes.h5",
        png=report(
            f"{RESULTS}/figures/fig8_routes.png",
            caption="../report/stability_routes.rst",
            category="2. Stability",
        ),
        pdf=f"{RESULTS}/figures/fig8_routes.pdf",
    params:
        model=config["model"],
        routes=STAB["routes"],
        N=ROUTES_N,
        dt=config["simulation"]["dt"],
    log:
        f"{RESULTS}/logs/stability/fig8_routes.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/fig8_routes.tsv"
    threads: 1
    resources:
        mem_mb=cost_mem_mb("fig8_routes"),
        runtime=cost_runtime("fig8_routes"),
    script:
        "../../scripts/stability_routes.py"


rule hetfp_compare:
    conda:
        CONDA_ENV
    output:
        table=f"{RESULTS}/tables/hetfp.csv",
        h5=f"{RESULTS}/stability/hetfp.h5",
    params:
        model=config["model"],
        hetfp=STAB["hetfp"],
        simulation=config["simulation"],
    log:
        f"{RESULTS}/logs/stability/hetfp_compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/hetfp_compare.tsv"
    threads: 1
    resources:
        mem_mb=cost_mem_mb("hetfp_compare"),
        runtime=cost_runtime("hetfp_compare"),
    script:
        "../../scripts/stability_hetfp.py"


rule fig8_hetfp:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        table=rules.hetfp_compare.output.table,
        h5=rules.hetfp_compare.output.h5,
    output:
        png=report(
            f"{RESULTS}/figures/fig8_hetfp.png",
            caption="../report/stability_hetfp.rst",
            category="2. Stability",
        ),
        pdf=f"{RESULTS}/figures/fig8_hetfp.pdf",
    params:
        model=config["model"],
        hetfp=STAB["hetfp"],
    log:
        f"{RESULTS}/logs/stability/fig8_hetfp.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/fig8_hetfp.tsv"
    script:
        "../../scripts/stability_fig_hetfp.py"


add_targets(
    "stability",
    [
        rules.jfp_table.output.table,
        rules.fig3_homogeneous.output.png,
        rules.fig8_jfp.output.png,
        rules.fig8_routes.output.png,
        rules.fig8_hetfp.output.png,
    ],
)
