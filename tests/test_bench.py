"""`stdnet bench`: it runs end to end on a tiny N and its ratios are the right ones.

No timing is asserted (the machine is shared); the arithmetic of the report is
checked on a synthetic result, the command on a real (tiny) run.
"""
from __future__ import annotations

import argparse
import json
import re

import pytest

from stdnet.bench import step as bench
from stdnet import cli


def _fake_results():
    run = {"N": 10000, "K_E": 800, "K_I": 200, "synapses": 10 ** 7, "build_s": 1.0,
           "pattern_bytes": 2 * 10 ** 7, "bytes_per_synapse": 2.0, "index_dtype": "uint16",
           "skipped": {},
           "seconds_per_step": {"ours": 0.016, "dense": 0.16, "csr": 0.032, "etd4": 0.0176,
                                "tangent_m1": 0.032, "tangent_m8": 0.064}}
    one = {"threads": 1, "bandwidth_Bps": 10e9, "bandwidth_probe_bytes": 2 ** 30,
           "caches": {"L2": 2 * 2 ** 20, "L3": 260 * 2 ** 20}, "runs": [run]}
    big1 = dict(run, N=40000, pattern_bytes=3.2e8, synapses=1.6e8,
                seconds_per_step={"ours": 1.0})
    big2 = dict(big1, seconds_per_step={"ours": 0.5})
    one["runs"].append(big1)
    two = dict(one, threads=2, runs=[run, big2])
    return [one, two]


def test_report_arithmetic():
    one, two = _fake_results()
    table = bench.format_table(one)
    row = next(line for line in table.splitlines() if line.split()[0] == "10000")
    f = row.split()
    # N, K, size, where, dense, csr, ours, Gsyn/s, x dense, x csr, etd4, tan1, tan8, %bound
    assert f[3] == "L3"
    assert float(f[7]) == pytest.approx(4 * 1e7 / 0.016 / 1e9, abs=0.01)  # 2.5 Gsyn/s
    assert float(f[8]) == pytest.approx(10.0)
    assert float(f[9]) == pytest.approx(2.0)
    assert float(f[10]) == pytest.approx(1.1)  # ETD4 step / RK4 step
    assert (float(f[11]), float(f[12])) == (2.0, 4.0)
    assert f[13] == "50%"  # 2.5e9 / (10 GB/s / 2 B)
    goals = bench.goals([one, two], bench.parse_goals(
        ["dense=8", "csr=2", "gsyn=2.5", "bound=0.25", "tangent_m8=3.7", "threads2=1.7"]))
    assert "vs dense numpy: 10.0x (goal >= 8)  met" in goals
    assert "m=8 tangent step: 4.00 trajectory steps (goal <= 3.7)  NOT met" in goals
    assert "2 threads vs 1: 2.00x (goal >= 1.7)  met" in goals
    assert "2 threads 2.00x" in bench.format_scaling([one, two])


def test_report_has_a_tangent_column_per_m_and_path():
    """m = 1, 2 (fused), 8 (block) and the block path of m = 1 (--tangent-block): one column
    each, ratios against the trajectory step of the same run; the paths are named."""
    one, _ = _fake_results()
    run = one["runs"][0]
    run["seconds_per_step"].update(tangent_m1=0.02, tangent_m2=0.024, tangent_m1_block=0.056)
    run["tangent_path"] = {"tangent_m1": "fused", "tangent_m2": "fused",
                           "tangent_m8": "block", "tangent_m1_block": "block"}
    table = bench.format_table(one)
    header = next(line for line in table.splitlines() if line.split()[0] == "N")
    assert re.search(r"tan m=1\s+m=1 blk\s+tan m=2\s+tan m=8\s+%bound", header), header
    f = next(line for line in table.splitlines() if line.split()[0] == "10000").split()
    assert [float(v) for v in f[11:15]] == [1.25, 3.5, 1.5, 4.0]  # f[10]: the etd4 column
    assert f[15] == "50%"
    row40 = next(line for line in table.splitlines() if line.split()[0] == "40000").split()
    assert row40[10:15] == ["-"] * 5  # not timed at that N
    opts = argparse.Namespace(repeats=5, goal=["tangent_m1=1.5"])
    text = bench.report([one], opts)
    assert "tangent paths: block for m = 1, 8; fused for m = 1, 2" in text
    assert "m=1 tangent step: 1.25 trajectory steps (goal <= 1.5)  met" in text


def test_where_fits():
    caches = {"L2": 2 * 2 ** 20, "L3": 260 * 2 ** 20}
    assert bench.where_fits(10 ** 6, caches) == "L2"
    assert bench.where_fits(10 ** 8, caches) == "L3"
    assert bench.where_fits(10 ** 9, caches) == "DRAM"


def test_bad_option_names_the_key(capsys):
    assert cli.main(["bench", "--N", "300", "--repeats", "0"]) == 2
    assert "--repeats: invalid value 0" in capsys.readouterr().err


def test_bench_runs_on_tiny_network(tmp_path, capsys):
    """Dense, CSR and our kernel on N = 300 in a child process; the tangent step is
    left out here (its compilation alone would exceed this test's time budget)."""
    out = tmp_path / "bench.json"
    rc = cli.main(["bench", "--N", "300", "--quick", "--threads", "1", "--repeats", "1",
                   "--no-tangent", "--bandwidth-mib", "32", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "x dense" in text and "x csr" in text and "bandwidth probe" in text
    row = next(line for line in text.splitlines() if re.match(r"\s+300\s", line))
    fields = row.split()
    assert float(fields[8]) > 0 and float(fields[9]) > 0  # ratios vs dense and CSR printed
    data = json.loads(out.read_text())
    (res,) = data["results"]
    assert res["threads"] == 1
    t = res["runs"][0]["seconds_per_step"]
    assert {"ours", "dense", "csr"} <= set(t)
    assert all(v > 0 for v in t.values())


def test_cache_sizes_from_a_sysfs_tree(tmp_path):
    from stdnet.kernels.hardware import cache_sizes

    for i, (kind, level, size) in enumerate([("Data", 1, "48K"), ("Instruction", 1, "32K"),
                                             ("Unified", 2, "2048K"), ("Unified", 3, "260M")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "type").write_text(kind + "\n")
        (d / "level").write_text(f"{level}\n")
        (d / "size").write_text(size + "\n")
    assert cache_sizes(str(tmp_path)) == {"L1": 48 * 1024, "L2": 2 * 2 ** 20,
                                          "L3": 260 * 2 ** 20}  # instruction cache ignored
    assert cache_sizes(str(tmp_path / "missing")) == {}


def test_goals_only_when_given_and_bad_ones_named():
    one, two = _fake_results()
    assert bench.goals([one, two], {}) == ""
    assert "goal" not in bench.format_table(one)
    text = bench.goals([one, two], bench.parse_goals(["csr=4"]))
    assert text.splitlines()[1:] == ["  N=1e4 vs scipy CSR: 2.0x (goal >= 4)  NOT met"]
    with pytest.raises(ValueError, match="--goal: invalid value 'speed=2'"):
        bench.parse_goals(["speed=2"])
    with pytest.raises(ValueError, match="--goal: invalid value 'dense'"):
        bench.parse_goals(["dense"])


def test_kernel_reports_from_synthetic_rows():
    from stdnet.bench import kernels as bench_kernels

    opts = argparse.Namespace(qr_interval=1.0, repeats=3, steps=20, J0=0.9)
    lyap = {"threads": 1, "runs": [{"N": 2000, "m": 8, "dim": 3600, "qr_every": 20,
                                    "seconds": {"trajectory": 0.001, "tangent": 0.0034,
                                                "qr": 0.0005},
                                    "qr_share": 0.0005 / (0.0005 + 20 * 0.0034)}]}
    row = bench_kernels.report_lyapunov([lyap], opts).splitlines()[-1].split()
    assert row[:2] == ["2000", "8"] and float(row[4]) == 3.4 and row[6] == "0.73%"
    stab = {"threads": 1, "runs": [{"N": 1000, "dim": 1800, "n_eigenvalues": 9,
                                    "seconds": {"dense": 2.0, "shift_invert": 0.5},
                                    "rightmost_dense": [-0.1, 0.2],
                                    "rightmost_shift_invert": [-0.1, 0.2],
                                    "max_distance": 1e-11}]}
    assert "4.00x" in bench_kernels.report_stability([stab], opts)
    idx = {"threads": 1, "runs": [{"N": 10000, "state": "float64", "E_rates_bytes": 64000,
                                   "pick": "both packed",
                                   "gsyn": dict.fromkeys(bench_kernels.LAYOUTS, 2.5)}]}
    assert bench_kernels.report_index_load([idx], opts).splitlines()[-1].endswith("2.50*")


def test_stability_kernel_runs_on_tiny_network(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--kernel", "stability", "--N", "200", "--json", str(out)]) == 0
    assert "shift-inv s" in capsys.readouterr().out
    (res,) = json.loads(out.read_text())["results"]
    (row,) = res["runs"]
    assert row["N"] == 200 and row["max_distance"] < 1e-6
    assert row["seconds"]["dense"] > 0 and row["seconds"]["shift_invert"] > 0


def test_mem_available_where_proc_meminfo_is_missing(monkeypatch):
    """macOS and others: sysconf instead of /proc/meminfo, never 0 where it answers."""
    import builtins

    from stdnet.kernels import hardware

    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path) == "/proc/meminfo":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert hardware.mem_available() > 0


def test_limit_blas_threads_sets_the_loaded_blas():
    import numpy  # noqa: F401  (bundles an OpenBLAS)
    from threadpoolctl import threadpool_info, threadpool_limits

    from stdnet.workflow.runtime import limit_blas_threads

    before = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()}
    try:
        assert limit_blas_threads(1) >= 1
        assert all(lib["num_threads"] == 1 for lib in threadpool_info()
                   if lib["user_api"] == "blas")
    finally:  # the other tests of this process keep their threads
        threadpool_limits(limits=before)
