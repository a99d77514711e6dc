"""The cost model of the heavy rules (stdnet.workflow.costmodel): monotone in N and attempt, known
values, the workflow's rules use it, and its job counts agree with Snakemake's DAG."""
from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stdnet.workflow import costmodel
from stdnet.workflow.config import validate_config
from stdnet.workflow.costmodel import CostModel, mem_request_mb, runtime_request_min, sweep_by_rule

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema"
N_RULES = ("simulate", "lyapunov", "record_inputs", "jfp_search", "jacobian_spectrum")


def _config(*names: str) -> dict:
    cfg = {}
    for name in names:
        for key, value in yaml.safe_load((ROOT / name).read_text()).items():
            cfg[key] = {**cfg[key], **value} if isinstance(value, dict) and key in cfg else value
    return validate_config(cfg, SCHEMA)


@pytest.fixture(scope="module")
def default():
    return CostModel(_config("config/params.yaml"))


@pytest.fixture(scope="module")
def width():
    return CostModel(_config("config/params.yaml", "config/width.yaml"))


@pytest.fixture(scope="module")
def paper():
    return CostModel(_config("config/params.yaml", "config/paper.yaml"))


@pytest.mark.parametrize("rule", N_RULES)
def test_cost_grows_with_N(paper, rule):
    sizes = [1000, 2000, 4000] + ([] if rule == "jacobian_spectrum" else [10000, 20000, 40000])
    costs = [paper.job(rule, N=N, J0="1") for N in sizes]
    assert all(a.seconds < b.seconds for a, b in zip(costs, costs[1:]))
    assert all(a.mem_mb <= b.mem_mb for a, b in zip(costs, costs[1:]))
    requests = [paper.runtime_min(rule, N=N, J0="1") for N in sizes]
    assert requests == sorted(requests)


@pytest.mark.parametrize("rule", costmodel.RULES)
def test_requests_grow_with_attempt(paper, rule):
    wc = {"N": 4000, "J0": "1"}
    times = [paper.runtime_min(rule, attempt=a, **wc) for a in (1, 2, 3)]
    assert times == [times[0], 2 * times[0], 4 * times[0]]
    mems = [paper.mem_mb(rule, attempt=a, **wc) for a in (1, 2, 3)]
    assert mems[0] < mems[1] < mems[2]
    cost = paper.job(rule, **wc)
    assert 0 < cost.seconds <= cost.worst_seconds


def test_known_values_simulate(paper):
    # N = 4e4, K = 4000: 320 MB of uint16 indices (past PATTERN_CACHE_BYTES); 1500 tau at the
    # ETD4 step dt = auto = 0.25: 6000 steps at 1.15 RK4 steps each
    assert paper.sim.method == "etd4" and paper.sim.dt == 0.25
    cost = paper.job("simulate", N=40000)
    assert cost.seconds == pytest.approx(1.5 + 4e4 * 4000 * 6000 * 1.15 / 5.6e8)
    # 60 s + 2 x 1971.4 s = 4002.9 s -> 67 min; 1000 MB floor above 1.5 x 530 MB
    assert paper.runtime_min("simulate", N=40000) == 67
    assert paper.runtime_min("simulate", N=40000, attempt=2) == 134
    assert paper.mem_mb("simulate", N=40000) == 1000
    assert paper.mem_mb("simulate", N=40000, attempt=2) == 1500
    # eight threads at 70 % efficiency: 60 s + 3942.9 s / 5.6 -> 13 min
    assert paper.runtime_min("simulate", N=40000, threads=8) == 13


def test_known_values_lyapunov(default, paper):
    # default: m = 8 (one chunk), N = 1000, K = 100; 4400 steps, 2 extensions of 4000
    per_step = 1000 * 100 / 7.0e8 * (1 + 2.4)
    cost = default.job("lyapunov", N=1000, J0="1.5")
    assert cost.seconds == pytest.approx(2.5 + per_step * (4400 + 0.3 * 8000))
    assert cost.worst_seconds == pytest.approx(2.5 + per_step * 12400)
    # paper: J0 = 1.5 is in lyapunov.spectrum_J0, so 128 exponents (16 chunks of 8)
    assert paper.exponents("1.5") == 128 and paper.exponents("1.4") == 8
    work = [paper.job("lyapunov", N=2000, J0=J0).seconds - costmodel.LYAPUNOV_STARTUP_S
            for J0 in ("1.5", "1.4")]
    ratio = work[0] / work[1]
    assert ratio == pytest.approx((1 + 2.4 * 16) / (1 + 2.4), rel=0.01)


def test_machine_speed_and_cache_scale_the_cpu_jobs(default):
    """machine.speed divides every CPU job's seconds (requests follow); machine.cache_mib
    moves the pattern size above which the memory-bound rates apply; memory is unchanged."""
    slow = costmodel.CostModel({**default.config, "machine": {"speed": 0.5, "cache_mib": 64}})
    for rule, wc in (("simulate", {"N": 2000}), ("lyapunov", {"N": 2000, "J0": "1.5"})):
        a, b = default.job(rule, **wc), slow.job(rule, **wc)
        assert b.seconds == pytest.approx(2 * a.seconds)
        assert b.worst_seconds == pytest.approx(2 * a.worst_seconds)
        assert b.mem_mb == a.mem_mb
    # N = 2000, K = 200: 0.8 MB of indices; a 0.5 MiB cache puts it on the slower rates
    small = costmodel.CostModel({**default.config, "machine": {"speed": 1.0, "cache_mib": 0.5}})
    s0 = default.job("simulate", N=2000).seconds - costmodel.EXPECTED_STARTUP_S
    s1 = small.job("simulate", N=2000).seconds - costmodel.EXPECTED_STARTUP_S
    assert s1 / s0 == pytest.approx(costmodel.SYN_RATE / costmodel.SYN_RATE_DRAM)
    # a lyapunov job priced for a known averaging time: t_align + t_average_total
    ly = default.config["lyapunov"]
    full = default.lyapunov_seconds(1000, 1.5, ly["t_average"])
    base = default.job("lyapunov", N=1000, J0="1.5")
    per_step = (base.worst_seconds - full) / (ly["t_average"] * ly["max_extensions"])
    assert default.lyapunov_seconds(1000, 1.5, 2 * ly["t_average"]) == pytest.approx(
        full + per_step * ly["t_average"])
    assert slow.lyapunov_seconds(1000, 1.5, ly["t_average"]) == pytest.approx(2 * full)


@pytest.mark.parametrize("m", range(1, 10))
def test_tangent_cost_follows_the_stepper_path(m):
    """m <= NARROW_MAX is priced as the fused step, the rest as blocks of 8 (TangentStepper)."""
    from stdnet.lyapunov.tangent import tangent_path

    small, big = 20 * 10 ** 6, 320 * 10 ** 6  # N = 1e4 and 4e4 at c = 0.1 (uint16)
    block = [1 + c * math.ceil(m / 8) for c in (costmodel.TANGENT_CHUNK,
                                                costmodel.TANGENT_CHUNK_DRAM)]
    costs = [costmodel.tangent_cost(m, small), costmodel.tangent_cost(m, big)]
    if tangent_path(m) == "fused":
        assert m <= 3 and all(c < b / 2 for c, b in zip(costs, block))
    else:
        assert m >= 4 and costs == pytest.approx(block)


def test_tangent_cost_measured_values():
    """The bench of docs/performance.md: m = 1, 2 vs the block path's m = 8 chunk."""
    small, big = 20 * 10 ** 6, 320 * 10 ** 6
    assert [costmodel.tangent_cost(m, small) for m in (1, 2, 3)] == [1.28, 1.33, 1.33]
    assert [costmodel.tangent_cost(m, big) for m in (1, 2, 3)] == [1.26, 1.48, 1.48]
    assert costmodel.tangent_cost(1, small) / costmodel.tangent_cost(8, small) == \
        pytest.approx(1.28 / 3.4)
    assert costmodel.tangent_cost(2, big) / costmodel.tangent_cost(8, big) == \
        pytest.approx(1.48 / 5.2)
    assert costmodel.tangent_cost(4, small) == costmodel.tangent_cost(8, small) == 3.4


def test_known_values_lyapunov_fused(width):
    # width: m = 2 (fused); N = 4000, K = 400 (3.2 MB, cached) and N = 32000, K = 3200
    # (205 MB, past PATTERN_CACHE_BYTES); 50 + 200 tau + 0.3 x 4 extensions of 200 tau
    ly = width.config["lyapunov"]
    assert width.exponents("1.5") == 2 and ly["max_extensions"] == 4
    steps = (ly["t_align"] + ly["t_average"] * (1 + 0.3 * 4)) / width.sim.dt * \
        costmodel.METHOD_STEP_COST[width.sim.method]
    for N, K, rate, fused in ((4000, 400, 7.0e8, 1.33), (32000, 3200, 5.6e8, 1.48)):
        cost = width.job("lyapunov", N=N, J0="1.5")
        assert cost.seconds == pytest.approx(2.5 + N * K / rate * fused * steps)


def test_dmf_solve_independent_of_N(paper):
    a, b = paper.job("dmf_solve", N="2000"), paper.job("dmf_solve", N="inf")
    assert a == b and a.worst_seconds > a.seconds


def test_request_helpers_reject_bad_values():
    assert runtime_request_min(1.0) == costmodel.RUNTIME_FLOOR_MIN
    assert mem_request_mb(10.0) == costmodel.MEM_FLOOR_MB
    with pytest.raises(ValueError, match="attempt: value 0 is not allowed"):
        runtime_request_min(1.0, attempt=0)
    with pytest.raises(ValueError, match="threads: value -1 is not allowed"):
        runtime_request_min(1.0, threads=-1)
    with pytest.raises(ValueError, match="rule: value 'summarise' is not allowed; allowed:"):
        CostModel(_config("config/params.yaml")).job("summarise")


def test_default_sweep_jobs(default):
    by_rule = sweep_by_rule(default.config, probes_per_realization=4).set_index("rule")
    # 42 grid points + 4 probes x 6 realizations; 2 chaotic J0 x 2 N x 3 seeds recorded
    assert by_rule.loc["simulate", "jobs"] == 66 and by_rule.loc["lyapunov", "jobs"] == 66
    assert by_rule.loc["record_inputs", "jobs"] == 12
    assert by_rule.loc["jfp_search", "jobs"] == 6 and by_rule.loc["dmf_solve", "jobs"] == 28
    assert (by_rule["core_h"] <= by_rule["worst_core_h"]).all()


def test_sweep_tables_share_one_total(paper):
    """Per N and per rule: the same jobs, so the same total (expected and worst case)."""
    from stdnet.workflow.costmodel import sweep_cost

    by_N, by_rule = sweep_cost(paper.config, 4), sweep_by_rule(paper.config, 4)
    assert by_N["N"].tolist() == ["1000", "2000", "4000", "10000", "20000", "40000", "-"]
    # 3559 jobs of the paper's stages + 11 of the heterogeneity stage at its defaults (3
    # ensembles x N 1000, 2000 x 1 seed, the onset searches of 2 of them, the gathering)
    assert by_N["jobs"].sum() == by_rule["jobs"].sum() == 3570
    for col in ("core_h", "worst_core_h"):
        assert by_N[col].sum() == pytest.approx(by_rule[col].sum(), rel=1e-12)
    parts = by_N[["simulate_core_h", "lyapunov_core_h", "other_core_h"]].sum(axis=1)
    assert parts.tolist() == pytest.approx(by_N["core_h"].tolist())
    rules = by_rule.set_index("rule")["core_h"]
    assert by_N["simulate_core_h"].sum() == pytest.approx(rules["simulate"])
    assert by_N["lyapunov_core_h"].sum() == pytest.approx(rules["lyapunov"])


def _rule_blocks(text: str) -> dict:
    """rule name -> its text, for every rule/checkpoint of a .smk file."""
    heads = list(re.finditer(r"^(?:rule|checkpoint) (\w+):\n", text, flags=re.M))
    ends = [h.start() for h in heads[1:]] + [len(text)]
    return {h.group(1): text[h.end():e] for h, e in zip(heads, ends)}


def test_every_rule_is_local_or_sized():
    """A cluster job without its own runtime would get the profile's 60-minute default."""
    blocks = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks.update(_rule_blocks(smk.read_text()))
    unsized = [name for name, body in blocks.items()
               if "localrule: True" not in body
               and not (f'cost_runtime("{name}")' in body and f'cost_mem_mb("{name}")' in body)]
    assert unsized == []
    sized = {name for name, body in blocks.items() if "cost_runtime(" in body}
    assert sized == set(costmodel.RULES)


def test_dry_run_counts_match_snakemake(tmp_path):
    """The per-rule table of a dry run counts the jobs Snakemake plans (probes aside)."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--configfile",
           str(ROOT / "tests" / "data" / "tiny.yaml"), "--config", f"results={tmp_path}"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    text = res.stdout + res.stderr
    stats = dict(re.findall(r"^(\w+)\s+(\d+)$", text.split("Job stats:")[1], flags=re.M))
    table = text.split("Predicted cost per rule")[1].split("total:")[0]
    model = dict(re.findall(r"^\s*(\w+)\s+(\d+)\s", table, flags=re.M))
    assert model, table
    for rule, jobs in model.items():
        if rule not in ("simulate", "lyapunov"):  # these add the onset probes' maximum
            assert stats[rule] == jobs, rule
    assert int(model["simulate"]) >= int(stats["simulate"])
    # one total: the per-N table, the per-rule table and the total line agree
    head, total = text.split("Predicted cost (")[1].split("\ntotal: ")
    by_N, by_rule = head.split("Predicted cost per rule")
    expected = float(total.split()[0])
    jobs = []
    for part in (by_N, by_rule):
        lines = [ln.split() for ln in part.splitlines() if ln.strip()]
        header = next(ln for ln in lines if "core_h" in ln)
        rows = lines[lines.index(header) + 1:]
        assert rows and sum(float(r[header.index("core_h")]) for r in rows) == \
            pytest.approx(expected, abs=0.01 * len(rows) + 0.05)
        jobs.append(sum(int(r[header.index("jobs")]) for r in rows))
    assert jobs[0] == jobs[1]


def test_benchmarks_of_nested_rule_folders(tmp_path):
    """stability/jfp_search/N~..._seed~....tsv is rule stability/jfp_search, not 'stability'
    (the calibration reads the rules by their folder)."""
    from stdnet.workflow.benchmarks import read_benchmarks

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for rel in ("stability/jfp_search/N~1000_seed~1.tsv", "simulate/N~1000_J0~0.1_seed~1.tsv",
                "stability/jfp_table.tsv"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + "2.0\t0:00:02\t200\t1\t1\t1\t0\t0\t90\t1.8\n")
    rules = set(read_benchmarks(tmp_path)["rule"])
    assert rules == {"stability/jfp_search", "simulate", "stability/jfp_table"}


def test_method_step_cost(default):
    """An ETD4 step is priced at METHOD_STEP_COST["etd4"] RK4 steps: at the same dt the
    simulation costs 1.15x, at its own dt (0.25 against RK4's 0.05) 0.23x."""
    import copy

    cfg = copy.deepcopy(default.config)
    base = default.job("simulate", N=2000).seconds - costmodel.EXPECTED_STARTUP_S
    for dt, ratio in ((default.sim.dt, 1.15), (0.25, 1.15 * default.sim.dt / 0.25)):
        cfg["simulation"].update(method="etd4", dt=dt)
        etd = CostModel(cfg).job("simulate", N=2000).seconds - costmodel.EXPECTED_STARTUP_S
        assert etd / base == pytest.approx(ratio)


def test_cluster_doc_lists_every_local_rule():
    """docs/cluster.md names exactly the rules marked `localrule: True` (it had drifted: 20
    listed, 22 in the code)."""
    names = set()
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=(?:rule|checkpoint) )", path.read_text()):
            m = re.match(r"(?:rule|checkpoint) (\w+):", block)
            if m and "localrule: True" in block:
                names.add(m.group(1))
    doc = (ROOT / "docs" / "cluster.md").read_text()
    section = doc.split("## Light rules run on the login node", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)`", section)) - {"localrule"}
    assert listed == names, (sorted(listed - names), sorted(names - listed))
