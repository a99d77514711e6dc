"""Hundreds of jobs through `--executor slurm`: no wedge, every job a SLURM job.

The 8-job test (tests/test_slurm.py) cannot show what goes wrong only at scale. With
`slurm-array-jobs: simulate` (plugin 2.8.0) a sweep of 250 simulations never started: the
plugin dropped every batch smaller than the rule's remaining ready jobs, after Snakemake
had marked the jobs running, so 200 jobs waited forever and none was submitted (upstream
issue #473). This module

- checks that workflow/profiles/slurm submits every job itself (no job arrays);
- runs the 250 simulations of tests/data/slurm_many.yaml (5 N x 5 J0 x 10 seeds, ~1 s of
  work each) and summarise on the one-node localhost cluster of tests/test_slurm.py, with
  that profile and the grouping the profile documents for sweeps of short jobs (one SLURM
  job per 25 simulations of one N), and checks that every simulation was run by a SLURM
  job that exited 0 and every output exists;
- (marked slow, not run by default) runs the same 250 jobs with the profile unchanged,
  one SLURM job each: the run that wedged with arrays. Each job starts Snakemake twice,
  so this takes ~11 min on an idle 2-core machine (the grouped run: ~5 min) and over
  25 min on a busy one. Both 250-job runs are marked slow (the grouped one took 955 s of a
  42-minute suite on a busy machine); the default suite keeps the profile check here and
  the 8-job SLURM run of tests/test_slurm.py.

A run that stops making progress fails after T_STALL s with the tail of its log and the
queue, not after the whole timeout.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from test_slurm import (ROOT, SNAKEMAKE, _check_made_by_slurm, _ctld_log, _local_outputs,
                        _snakemake_env, _tail, cluster)  # noqa: F401 (cluster: fixture)

MANY = ROOT / "tests" / "data" / "slurm_many.yaml"
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
GROUP_SIZE = 25
# The group recipe of the profile's comments: --cores 1 makes a group ask for one CPU and
# the sum of its jobs' runtimes (the plugin runs a group's jobs one after the other).
GROUPED = ["--groups", "simulate=sim_N{N}", "--group-components", f"sim_N{{N}}={GROUP_SIZE}",
           "--cores", "1"]
# Poll squeue 2 s after a submission instead of 40 (the plugin adds 10 s per poll that sees
# no job finish, up to 180 s). The cluster keeps finished jobs for MinJobAge=600 s >= 3 x 2,
# else the plugin would switch to sacct, which has no accounting database here.
FAST_POLL = ["--slurm-init-seconds-before-status-checks", "2"]
T_TOTAL, T_STALL = 2400, 600  # s: the whole run; without one more job finished

pytestmark = pytest.mark.slurm


def _grid():
    grid = yaml.safe_load(MANY.read_text())["grid"]
    return grid["N"], len(grid["J0"]) * len(grid["seeds"])


def test_profile_submits_every_job_itself():
    """No job arrays in the SLURM profile: plugin 2.8.0 drops array batches (see above)."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    arrays = str(profile.get("slurm-array-jobs") or "none").strip().lower()
    assert arrays == "none", (
        f"workflow/profiles/slurm sets slurm-array-jobs: {arrays}. Plugin 2.8.0 never submits "
        "an array batch smaller than the rule's remaining ready jobs (upstream issue #473): a "
        "sweep of more than ~40 jobs waits forever. Run test_many_jobs_one_slurm_job_each "
        "(-m slow) with a plugin release that fixes it before turning arrays back on.")


def _run_watched(cmd, env, what, workdir: Path):
    """Run cmd (own process group, output to a file); fail if it exceeds T_TOTAL s or no
    new "k of n steps done" appears for T_STALL s (a wedged run), with the log tails."""
    log = workdir / "snakemake.out"
    start = last_change = time.monotonic()
    last_done = None
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    try:
        while proc.poll() is None:
            time.sleep(5)
            done = log.read_text(errors="replace").count(" steps (")
            now = time.monotonic()
            if done != last_done:
                last_done, last_change = done, now
            reason = ("exceeded" if now - start > T_TOTAL else
                      "stalled" if now - last_change > T_STALL else None)
            if reason:
                try:
                    queue = subprocess.run(["squeue", "-t", "all", "-o", "%i %T %C %m %l %r %j"],
                                           capture_output=True, text=True, timeout=30).stdout
                except (OSError, subprocess.SubprocessError) as e:
                    queue = f"squeue failed: {e}"
                os.killpg(proc.pid, signal.SIGTERM)  # snakemake waits for its jobs on TERM
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                limit = (f"{T_TOTAL} s in all" if reason == "exceeded"
                         else f"no job finished for {T_STALL} s")
                pytest.fail(f"{what} {reason} ({limit}); killed after {now - start:.0f} s, "
                            f"{last_done} jobs done.\n{_tail(log, 40)}\n--- squeue ---\n"
                            f"{queue[-3000:]}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    wall = time.monotonic() - start
    out = log.read_text(errors="replace")
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}) after {wall:.0f} s:\n{out[-6000:]}")
    return out, wall


def _many_jobs_on_slurm(cluster, tmp_path, extra, what):
    """Run the 250 simulations and summarise through the SLURM profile; check every output
    and that each simulation was run by a SLURM job that exited 0. Returns (jobs, wall)."""
    ns, per_n = _grid()
    n_sims = len(ns) * per_n
    assert n_sims >= 250, f"{MANY} has only {n_sims} simulations"
    work, results, logdir = tmp_path / "wd", tmp_path / "results", tmp_path / "slurm-logs"
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--configfile", str(MANY),
           "-d", str(work), "--config", f"results={results}", "--workflow-profile",
           str(PROFILE), "--slurm-logdir", str(logdir), "--slurm-keep-successful-logs",
           *extra, *FAST_POLL, "summarise"]
    out, wall = _run_watched(cmd, _snakemake_env(), what, tmp_path)

    sims = sorted(results.rglob("simulation.h5"))
    table = results / "tables" / "runs.csv"
    assert len(sims) == n_sims, f"{len(sims)} of {n_sims} simulations exist"
    assert table.is_file()
    local = _local_outputs(out)
    assert not any(str(p) in local for p in sims), "a simulation ran on the submit host"
    jobs = _check_made_by_slurm([*sims, table], local, logdir, _ctld_log(cluster))
    submitted = out.count("has been submitted with SLURM jobid")
    print(f"{what}: {n_sims} simulations in {len(jobs)} SLURM jobs ({submitted} submitted) "
          f"in {wall:.0f} s; cluster start {cluster['up_s']:.1f} s")
    return jobs, wall


@pytest.mark.slow  # ~6 min idle, 16 min busy: the largest share of CI; run with -m slow
def test_many_jobs_grouped_on_slurm(cluster, tmp_path):
    ns, per_n = _grid()
    jobs, _ = _many_jobs_on_slurm(cluster, tmp_path, GROUPED,
                                  f"250 simulations, groups of {GROUP_SIZE}, through SLURM")
    assert len(jobs) == len(ns) * math.ceil(per_n / GROUP_SIZE), jobs


@pytest.mark.slow
def test_many_jobs_one_slurm_job_each(cluster, tmp_path):
    ns, per_n = _grid()
    jobs, _ = _many_jobs_on_slurm(cluster, tmp_path, [],
                                  "250 simulations, one SLURM job each")
    assert len(jobs) == len(ns) * per_n
