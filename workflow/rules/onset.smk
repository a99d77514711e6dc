# Onset of chaos per realization (N, seed): an adaptive bisection of J_ch expressed as
# Snakemake checkpoints, one step per probe (stdnet.onset.search). Each probe is an ordinary
# simulate + lyapunov job at the probed J0 (same rules, same settings as the grid), so on a
# cluster the probes of all realizations run at once; within a realization they follow one
# another. Step 0 starts from the realization's grid runs; step k reads step k-1's bracket,
# asks for the run at its midpoint and writes the new bracket. Included before transition.smk.
ONSET = config["transition"]["onset"]
ONSET_DIR = f"{RESULTS}/onset"
ONSET_REALIZATIONS = [(N, s) for N in GRID_N for s in GRID_SEEDS]
ONSET_ZERO_TOL = config["transition"]["zero_tol"]


wildcard_constraints:
    step=r"\d+",


checkpoint onset_step:
    input:
        unpack(onset_step_input),
    output:
        state=f"{ONSET_DIR}/N~{{N}}/seed~{{seed}}/step~{{step}}.json",
    log:
        f"{RESULTS}/logs/onset/N~{{N}}_seed~{{seed}}_step~{{step}}.log",
    # reads one small HDF5 summary: not worth a cluster job
    localrule: True
    conda:
        CONDA_ENV
    params:
        N=lambda wc: int(wc.N),
        seed=lambda wc: int(wc.seed),
        step=lambda wc: int(wc.step),
        resolution=ONSET["resolution"],
        undecided=ONSET["undecided"],
        zero_tol=ONSET_ZERO_TOL,
    script:
        "../../scripts/onset/onset_step.py"


rule onset_result:
    input:
        state=onset_final_state,
    output:
        state=f"{ONSET_DIR}/N~{{N}}/seed~{{seed}}/onset.json",
    log:
        f"{RESULTS}/logs/onset/N~{{N}}_seed~{{seed}}_result.log",
    localrule: True
    conda:
        CONDA_ENV
    script:
        "../../scripts/onset/onset_result.py"


rule onset_table:
    input:
        states=[f"{ONSET_DIR}/N~{N}/seed~{s}/onset.json" for N, s in ONSET_REALIZATIONS],
    output:
        table=kept(f"{RESULTS}/tables/onset.csv"),
        probes=kept(f"{RESULTS}/tables/onset_probes.csv"),
    log:
        f"{RESULTS}/logs/onset/table.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        estimator=ONSET["estimator"],  # J_ch from the probes; the searches do not depend on it
    script:
        "../../scripts/onset/onset_table.py"


# a dry run prints what the sweep will cost (probes counted at their maximum); the workflow
# is parsed before Snakemake knows its executor, so the command line tells
_DRY_FLAGS = {"--dry-run", "--dryrun", "--just-print"}
_DRY_RUN = any(
    a in _DRY_FLAGS or (a[:1] == "-" and a[1:2] != "-" and a[1:].isalpha() and "n" in a)
    for a in sys.argv[1:]
)
if _DRY_RUN:
    from stdnet.workflow.costmodel import sweep_by_rule, sweep_cost

    # one set of jobs (stdnet.workflow.costmodel.sweep_jobs: every heavy job of the selected stages),
    # grouped by N and by rule: both tables sum to the one total (docs/cluster.md)
    _search = ONSET["search"] and STAGES & {"onset", "transition"}
    _probes = onset.max_probes(GRID_J0, ONSET["resolution"]) if _search else 0
    _fmt = lambda v: f"{v:.2f}"  # noqa: E731
    _by_N = sweep_cost(config, _probes)
    _by_rule = sweep_by_rule(config, _probes)
    print(
        f"Predicted cost (core-hours as cores held, threads x wall time; "
        f"{_probes} onset probes per realization at most) of every heavy job of the "
        "selected stages, per N (N -: jobs of the whole sweep; worst_core_h: every Lyapunov "
        "extension and DMF iteration):\n"
        + _by_N.to_string(index=False, float_format=_fmt)
        + "\nPredicted cost per rule (the same jobs; max_request_h, max_mem_mb: the largest "
        "first-attempt request of one job, at its threads):\n"
        + _by_rule.to_string(index=False, float_format=_fmt)
        + f"\ntotal: {_by_rule['core_h'].sum():.1f} core-hours expected, "
        f"{_by_rule['worst_core_h'].sum():.1f} at most (either table's sum)",
        file=sys.stderr,
    )
