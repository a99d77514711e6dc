# One trajectory per grid point, and the table of all runs.


rule simulate:
    output:
        h5=f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/simulation.h5",
    log:
        f"{RESULTS}/logs/simulate/N~{{N}}_J0~{{J0}}_seed~{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate/N~{{N}}_J0~{{J0}}_seed~{{seed}}.tsv"
    conda:
        CONDA_ENV
    threads: cost_threads("simulate")
    resources:
        mem_mb=cost_mem_mb("simulate"),
        runtime=cost_runtime("simulate"),
        gpu=cost_gpus("simulate"),
    params:
        model=model_params,
        simulation=simulation_settings(),
        seed=lambda wc: int(wc.seed),
        checkpoint=lambda wc: f"{run_dir(wc.N, wc.J0, wc.seed)}/simulation.checkpoint.h5",
    script:
        "../../scripts/simulate.py"


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
        "../../scripts/summarise.py"
