# Report and job accounting (issue 7): the report's front page, the cost of every
# job class vs N (from the benchmark files) and the run status of the grid.
# Appends its outputs to ALL_TARGETS; included last, so it sees every stage's targets.
from stdnet.accounting import point_specs


report: "../report/workflow.rst"


# every stage's final targets, before ours: the accounting rules run last
UPSTREAM_TARGETS = list(ALL_TARGETS)
# per-point outputs of every stage (those written into the run folders)
POINT_SPECS = point_specs(workflow.rules, f"{RESULTS}/N~{{N}}/J0~{{J0}}/seed~{{seed}}/")


rule benchmark_summary:
    conda:
        CONDA_ENV
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    input:
        done=UPSTREAM_TARGETS,
    output:
        jobs=report(
            f"{RESULTS}/tables/benchmarks.csv",
            caption="../report/benchmarks_table.rst",
            category="9. Workflow",
            subcategory="cost of the jobs",
        ),
        summary=f"{RESULTS}/tables/benchmarks_summary.csv",
        png=report(
            f"{RESULTS}/figures/benchmarks.png",
            caption="../report/benchmarks_figure.rst",
            category="9. Workflow",
            subcategory="cost of the jobs",
        ),
        pdf=f"{RESULTS}/figures/benchmarks.pdf",
    params:
        benchmarks=f"{RESULTS}/benchmarks",
        exclude=["report/benchmark_summary", "report/run_status"],
        note=(
            f"grid N={GRID_N}, {len(GRID_J0)} J0 x {len(GRID_SEEDS)} seeds; "
            f"simulated time {config['simulation']['t_transient']}+"
            f"{config['simulation']['t_record']} tau, dt={config['simulation']['dt']}."
        ),
    log:
        f"{RESULTS}/logs/report/benchmark_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/benchmark_summary.tsv"
    script:
        "../../scripts/report_benchmarks.py"


rule run_status:
    conda:
        CONDA_ENV
    localrule: True
    input:
        done=UPSTREAM_TARGETS,
    output:
        table=report(
            f"{RESULTS}/tables/run_status.csv",
            caption="../report/benchmarks_status.rst",
            category="9. Workflow",
            subcategory="run status",
        ),
    params:
        grid=GRID,
        specs=POINT_SPECS,
    log:
        f"{RESULTS}/logs/report/run_status.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/run_status.tsv"
    script:
        "../../scripts/report_status.py"


ALL_TARGETS.extend([rules.benchmark_summary.output.png, rules.run_status.output.table])
