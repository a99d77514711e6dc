# Linear stability of the homogeneous fixed point and the two routes out of it
# (docs/model.md; paper Figs 3 and 8). Its final outputs: get_stage_outputs (common.smk).
# Interface used by the transition stage: rule jfp_table, output `table` (tables/jfp.csv),
# one row per (N, seed) with N, seed, J_FP, crossing (hopf | real | none), frequency.

STAB = config["stability"]
# J_FP sizes and seeds (stdnet.workflow.plan): stability.jfp.N, else the grid N that the
# solver takes (the dense ones stop at JFP_DENSE_N_MAX; matrix_free takes any N)
PLAN.check_jfp_methods()
JFP_N, JFP_SEEDS = PLAN.jfp_sizes, PLAN.jfp_seeds
ROUTES_N = PLAN.routes_size
MAP_N = PLAN.map_size
STAB_RUNS = [f"{RESULTS}/stability/N~{N}/seed~{s}" for N in JFP_N for s in JFP_SEEDS]
# the fixed-J0 spectra (scripts/stability/jacobian_spectrum.py) still use the dense shift-invert
# solver: only the sizes it can take (PLAN.spectrum_sizes)
SPECTRUM_RUNS = [
    f"{RESULTS}/stability/N~{N}/seed~{s}"
    for N in PLAN.spectrum_sizes
    for s in JFP_SEEDS
]


rule homogeneous_modes:
    output:
        curves=kept(f"{RESULTS}/tables/homogeneous_modes.csv"),
        map=kept(f"{RESULTS}/tables/homogeneous_map.csv"),
    log:
        f"{RESULTS}/logs/stability/homogeneous_modes.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/homogeneous_modes.tsv"
    # 3 x 3 eigenvalues on a few thousand points: seconds, on the submitting host
    localrule: True
    conda:
        CONDA_ENV
    threads: 1
    params:
        model=config["model"],
        homogeneous=STAB["homogeneous"],
        map_N=MAP_N,
    script:
        "../../scripts/stability/homogeneous_modes.py"


rule stability_homogeneous:
    input:
        curves=rules.homogeneous_modes.output.curves,
        map=rules.homogeneous_modes.output.map,
    output:
        png=report(
            kept(f"{RESULTS}/figures/stability_homogeneous.png"),
            caption="../report/stability_fig3.rst",
            category="2. Stability",
        ),
        pdf=kept(f"{RESULTS}/figures/stability_homogeneous.pdf"),
    log:
        f"{RESULTS}/logs/stability/stability_homogeneous.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/stability_homogeneous.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        model=config["model"],
    script:
        "../../scripts/stability/stability_homogeneous.py"


rule jfp_search:
    output:
        h5=f"{RESULTS}/stability/N~{{N}}/seed~{{seed}}/jfp.h5",
    log:
        f"{RESULTS}/logs/stability/jfp_search/N~{{N}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/jfp_search/N~{{N}}_seed~{{seed}}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("jfp_search")
    resources:
        mem_mb=cost_mem_mb("jfp_search"),
        runtime=cost_runtime("jfp_search"),
    params:
        model=config["model"],
        jfp=STAB["jfp"],
        N=lambda wc: int(wc.N),
        seed=lambda wc: int(wc.seed),
    script:
        "../../scripts/stability/jfp_search.py"


rule jacobian_spectrum:
    output:
        h5=f"{RESULTS}/stability/N~{{N}}/seed~{{seed}}/spectrum.h5",
    log:
        f"{RESULTS}/logs/stability/jacobian_spectrum/N~{{N}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/jacobian_spectrum/N~{{N}}_seed~{{seed}}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=cost_mem_mb("jacobian_spectrum"),
        runtime=cost_runtime("jacobian_spectrum"),
    params:
        model=config["model"],
        jfp=STAB["jfp"],
        J0=STAB["spectrum"]["J0"],
        N=lambda wc: int(wc.N),
        seed=lambda wc: int(wc.seed),
    script:
        "../../scripts/stability/jacobian_spectrum.py"


rule jfp_table:
    input:
        jfp=[f"{d}/jfp.h5" for d in STAB_RUNS],
    output:
        table=kept(f"{RESULTS}/tables/jfp.csv"),
    log:
        f"{RESULTS}/logs/stability/jfp_table.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/jfp_table.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../../scripts/stability/jfp_table.py"


rule spectrum_table:
    input:
        spectra=[f"{d}/spectrum.h5" for d in SPECTRUM_RUNS],
    output:
        table=kept(f"{RESULTS}/tables/spectrum_edge.csv"),
    log:
        f"{RESULTS}/logs/stability/spectrum_table.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/spectrum_table.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../../scripts/stability/spectrum_table.py"


rule bulk_edge_theory:
    output:
        table=kept(f"{RESULTS}/tables/bulk_edge_theory.csv"),
    log:
        f"{RESULTS}/logs/stability/bulk_edge_theory.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/bulk_edge_theory.tsv"
    # a few hundred bulk-edge evaluations: seconds, on the submitting host
    localrule: True
    conda:
        CONDA_ENV
    params:
        model=config["model"],
        N=sorted(set(JFP_N)),
        J0_range=STAB["jfp"]["J0_range"],
    script:
        "../../scripts/stability/bulk_edge_theory.py"


rule stability_jfp:
    input:
        jfp=rules.jfp_table.output.table,
        spectra=rules.spectrum_table.output.table,
        theory=rules.bulk_edge_theory.output.table,
    output:
        png=report(
            kept(f"{RESULTS}/figures/stability_jfp.png"),
            caption="../report/stability_jfp.rst",
            category="2. Stability",
        ),
        pdf=kept(f"{RESULTS}/figures/stability_jfp.pdf"),
        bulk_png=report(
            kept(f"{RESULTS}/figures/stability_bulk_edge.png"),
            caption="../report/stability_bulk.rst",
            category="2. Stability",
        ),
        bulk_pdf=kept(f"{RESULTS}/figures/stability_bulk_edge.pdf"),
    log:
        f"{RESULTS}/logs/stability/stability_jfp.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/stability_jfp.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        model=config["model"],
        tol=STAB["jfp"]["tol"],
    script:
        "../../scripts/stability/stability_jfp.py"


rule stability_routes:
    input:
        jfp=rules.jfp_table.output.table,
    output:
        h5=f"{RESULTS}/stability/routes.h5",
        png=report(
            kept(f"{RESULTS}/figures/stability_routes.png"),
            caption="../report/stability_routes.rst",
            category="2. Stability",
        ),
        pdf=kept(f"{RESULTS}/figures/stability_routes.pdf"),
    log:
        f"{RESULTS}/logs/stability/stability_routes.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/stability_routes.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=cost_mem_mb("stability_routes"),
        runtime=cost_runtime("stability_routes"),
    params:
        model=config["model"],
        routes=STAB["routes"],
        N=ROUTES_N,
        dt=config["simulation"]["dt"],
        method=config["simulation"]["method"],
    script:
        "../../scripts/stability/stability_routes.py"


rule hetfp_compare:
    output:
        table=kept(f"{RESULTS}/tables/hetfp.csv"),
        h5=f"{RESULTS}/stability/hetfp.h5",
    log:
        f"{RESULTS}/logs/stability/hetfp_compare.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/hetfp_compare.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=cost_mem_mb("hetfp_compare"),
        runtime=cost_runtime("hetfp_compare"),
    params:
        model=config["model"],
        hetfp=STAB["hetfp"],
        simulation=simulation_settings(),
    script:
        "../../scripts/stability/hetfp_compare.py"


rule stability_hetfp:
    input:
        table=rules.hetfp_compare.output.table,
        h5=rules.hetfp_compare.output.h5,
    output:
        png=report(
            kept(f"{RESULTS}/figures/stability_hetfp.png"),
            caption="../report/stability_hetfp.rst",
            category="2. Stability",
        ),
        pdf=kept(f"{RESULTS}/figures/stability_hetfp.pdf"),
    log:
        f"{RESULTS}/logs/stability/stability_hetfp.log",
    benchmark:
        f"{RESULTS}/benchmarks/stability/stability_hetfp.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        model=config["model"],
        hetfp=STAB["hetfp"],
    script:
        "../../scripts/stability/stability_hetfp.py"
