# Report and job accounting: the report's front page, the cost of every
# job class vs N (from the benchmark files) and the run status of the grid.
# Included last: its rules wait for every selected stage's outputs (get_stage_outputs).
from stdnet.workflow.plan import point_specs


report: "../report/workflow.rst"


# every stage's final targets, before ours: the accounting rules run last
UPSTREAM_TARGETS = get_stage_outputs()
# per-point outputs of every stage (those written into the run folders), from the rules'
# path patterns
POINT_SPECS = point_specs(
    [
        {
            "rule": r.name,
            "outputs": [str(f) for f in r.output],
            "log": str(r.log[0]) if len(r.log) else "",
            "benchmark": str(r.benchmark) if r.benchmark else "",
        }
        for r in workflow.rules
    ],
    RESULTS,
)


rule benchmark_summary:
    input:
        done=UPSTREAM_TARGETS,
    output:
        jobs=report(
            kept(f"{RESULTS}/tables/benchmarks.csv"),
            caption="../report/benchmarks_table.rst",
            category="9. Workflow",
            subcategory="cost of the jobs",
        ),
        summary=kept(f"{RESULTS}/tables/benchmarks_summary.csv"),
        png=report(
            kept(f"{RESULTS}/figures/workflow_benchmarks.png"),
            caption="../report/benchmarks_figure.rst",
            category="9. Workflow",
            subcategory="cost of the jobs",
        ),
        pdf=kept(f"{RESULTS}/figures/workflow_benchmarks.pdf"),
    log:
        f"{RESULTS}/logs/report/benchmark_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/benchmark_summary.tsv"
    # seconds of work: run on the submitting host, not as a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        benchmarks=f"{RESULTS}/benchmarks",
        exclude=["report/benchmark_summary", "report/run_status"],
        note=(
            f"grid N={GRID_N}, {len(GRID_J0)} J0 x {len(GRID_SEEDS)} seeds; "
            f"simulated time {config['simulation']['t_transient']}+"
            f"{config['simulation']['t_record']} tau, dt={config['simulation']['dt']}."
        ),
    script:
        "../../scripts/workflow/benchmark_summary.py"


rule run_status:
    input:
        done=UPSTREAM_TARGETS,
    output:
        table=report(
            kept(f"{RESULTS}/tables/run_status.csv"),
            caption="../report/benchmarks_status.rst",
            category="9. Workflow",
            subcategory="run status",
        ),
    log:
        f"{RESULTS}/logs/report/run_status.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/run_status.tsv"
    localrule: True
    conda:
        CONDA_ENV
    params:
        grid=GRID,
        specs=POINT_SPECS,
    script:
        "../../scripts/workflow/run_status.py"
