# One trajectory per grid point, and the table of all runs.


rule simulate:
    conda:
        CONDA_ENV
    output:
        h5=f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/simulation.h5",
    params:
        model=model_params,
        simulation=config["simulation"],
        seed=lambda wc: int(wc.seed),
        checkpoint=lambda wc: f"{run_dir(wc.N, wc.J0, wc.seed)}/simulation.checkpoint.h5",
    log:
        f"{RESULTS}/logs/simulate/N~{{N}}_J0~{{J0}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate/N~{{N}}_J0~{{J0}}_seed~{{seed}}.tsv"
    threads: cost_threads("simulate")
    resources:
        mem_mb=cost_mem_mb("simulate"),
        runtime=cost_runtime("simulate"),
    script:
        "../../scripts/simulate.py"


rule summarise:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        sims=grid_files("simulation.h5"),
    output:
        table=f"{RESULTS}/tables/runs.csv",
    params:
        fp_tolerance=config["summary"]["fp_tolerance"],
    log:
        f"{RESULTS}/logs/summarise.log",
    benchmark:
        f"{RESULTS}/benchmarks/summarise.tsv"
    script:
        "../../scripts/summarise.py"


add_targets("simulate", [rules.summarise.output.table])
