"""The workflow on a real SLURM cluster: a one-node cluster on localhost (.ci/slurm).

Starts slurmctld, slurmd and munge (apt-get installs them if missing), runs the
simulations and the runs table of the tiny config (tests/data/tiny.yaml) through
`--executor slurm` with workflow/profiles/slurm, checks from slurmctld's own log
that every output was made by a SLURM job that exited 0, and that the outputs equal
those of a local run of the same targets: every HDF5 dataset byte for byte (the
/meta group, which holds wall times and dates, excluded) and every CSV exactly
(columns of wall times excluded). Stops the daemons by PID. Any hang fails the
test after a timeout with the tail of the logs. Skipped only where not root or
without apt-get (and no SLURM installed).

The SLURM run is restricted to the target `summarise` (all simulation.h5 and
tables/runs.csv) so the test stays within a few minutes as stages are added. Rules
declared `localrule: True` (summarise) run on the submitting host; every other job must
be a SLURM job. tests/test_slurm_scale.py pushes 250 jobs through the same cluster
(one at a time: both hold the lock LOCK while their cluster is up).
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stdnet.workflow.compare import compare_results

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci" / "slurm"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TARGETS = ["summarise"]
SLURM_TMP = "/tmp/stdnet-slurm"
LOCK = "/tmp/stdnet-slurm.lock"
T_UP, T_LOCAL, T_SLURM = 240, 150, 240  # seconds before "hangs": fail
# how long to wait for another session's cluster: the scale test may hold it ~40 min at most
T_LOCK = 3000

pytestmark = pytest.mark.slurm


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "not root (the test starts slurmctld/slurmd/munged as root)"
    have_slurm = all(shutil.which(b) or Path(f"/usr/sbin/{b}").exists()
                     for b in ("slurmctld", "slurmd", "sbatch", "munged"))
    if not have_slurm and shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install it"
    return None


def _run(cmd, timeout, what, env=None, cwd=ROOT, log_files=()):
    """Run cmd in its own process group; on timeout kill the group and fail loudly."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        tails = "".join(f"\n--- {p} ---\n{_tail(p)}" for p in log_files)
        pytest.fail(f"{what} hung: no result after {timeout} s; killed.\n{out[-4000:]}{tails}")
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tails = "".join(f"\n--- {p} ---\n{_tail(p)}" for p in log_files)
        pytest.fail(f"{what} failed (exit {proc.returncode}) after {wall:.0f} s:\n"
                    f"{out[-6000:]}{tails}")
    return out, wall


def _tail(path, n=30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError as e:
        return str(e)


@pytest.fixture(scope="module")
def cluster():
    reason = _skip_reason()
    if reason:
        pytest.skip(f"SLURM cluster test skipped: {reason}")
    try:  # a dependency of the project: missing means a broken install, not a skip
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.fail("snakemake-executor-plugin-slurm is not installed: "
                    "pip install 'snakemake-executor-plugin-slurm>=2.8,<3'")
    # one cluster per machine: other test sessions wait for the lock
    lock = open(LOCK, "w")
    deadline = time.monotonic() + T_LOCK
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"another test session held {LOCK} for {T_LOCK} s")
            time.sleep(2)
    env = {**os.environ, "SLURM_TMP": SLURM_TMP}
    ctld_log = Path(SLURM_TMP) / "slurmctld.log"
    # the log is appended across runs and job ids repeat: read only what this cluster wrote
    ctld_start = ctld_log.stat().st_size if ctld_log.exists() else 0
    try:
        out, wall = _run(["bash", str(CI / "up.sh")], T_UP, "starting the SLURM cluster", env,
                         log_files=[f"{SLURM_TMP}/slurmctld.log", f"{SLURM_TMP}/slurmd.log"])
        print(f"cluster up in {wall:.1f} s\n{out[-500:]}")
        yield {"ctld_log": ctld_log, "ctld_start": ctld_start, "up_s": wall}
    finally:
        pids = {}
        for name, pf in (("slurmctld", f"{SLURM_TMP}/slurmctld.pid"),
                         ("slurmd", f"{SLURM_TMP}/slurmd.pid")):
            if Path(pf).exists():
                pids[name] = int(Path(pf).read_text().split()[0])
        down = subprocess.run(["bash", str(CI / "down.sh")], env=env, capture_output=True,
                              text=True, timeout=120)
        print(down.stdout, down.stderr)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    for name, pid in pids.items():
        assert not _alive(pid), f"{name} (pid {pid}) still runs after down.sh"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _snakemake_env():
    return {**os.environ, "NUMBA_NUM_THREADS": "1", "STDNET_SLURM_PARTITION": "debug",
            "STDNET_SLURM_ACCOUNT": ""}


def _ctld_log(cluster) -> str:
    """What slurmctld logged since this module's cluster started."""
    with open(cluster["ctld_log"], "rb") as f:
        f.seek(cluster["ctld_start"])
        return f.read().decode(errors="replace")


def _rule_blocks(text: str):
    """(rule, [output paths]) of every job block Snakemake printed ("rule x:" for a job it
    hands to an executor, "localrule x:" for one it runs in its own process)."""
    for m in re.finditer(r"^(local)?rule (\w+):\n((?:[ \t]+\S.*\n?)*)", text, flags=re.M):
        out = re.search(r"^\s*output: (.+)$", m.group(3), flags=re.M)
        # a flagged file is printed with its flag: "res/tables/runs.csv (update)"
        paths = ([str(Path(re.sub(r" \(\w+\)$", "", p.strip()))) for p in out.group(1).split(", ")]
                 if out else [])
        yield bool(m.group(1)), m.group(2), paths


def _slurm_jobs_of_outputs(logdir: Path) -> dict[str, str]:
    """output path -> SLURM job id, from the plugin's per-job logs (<...>/<jobid>.log).

    A log holds the blocks of every job its SLURM job ran: one for a plain job, all of
    them for a group job. (Job arrays are not used: workflow/profiles/slurm.)"""
    made_by = {}
    for log in logdir.rglob("*.log"):
        for _, _, paths in _rule_blocks(log.read_text(errors="replace")):
            for path in paths:
                made_by[path] = log.stem
    return made_by


def _declared_local_rules() -> set[str]:
    """Rules the workflow runs on the submitting host: `localrule: True` or `localrules:`."""
    local = set()
    for smk in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        text = smk.read_text()
        for m in re.finditer(r"^localrules:\s*(.+)$", text, flags=re.M):
            local.update(r.strip() for r in m.group(1).split(","))
        starts = list(re.finditer(r"^(?:rule|checkpoint) (\w+):", text, flags=re.M))
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            if re.search(r"^\s+localrule:\s*True", text[m.end():end], flags=re.M):
                local.add(m.group(1))
    return local


def _local_outputs(out: str) -> set[str]:
    """Outputs the submitting Snakemake made itself; fails unless their rules are declared
    local (anything else running on the submit host means the executor was bypassed)."""
    declared = _declared_local_rules()
    made = set()
    for is_local, rule, paths in _rule_blocks(out):
        if is_local:
            assert rule in declared, f"job of rule {rule} ran on the submit host, not in SLURM"
            made.update(paths)
    return made


def _check_made_by_slurm(outputs, local_made, logdir: Path, ctld: str) -> set[str]:
    """Every output not made locally is listed in the log of a SLURM job that slurmctld saw
    exit 0. Returns the ids of those jobs."""
    made_by = _slurm_jobs_of_outputs(logdir)
    jobs = set()
    for path in outputs:
        if str(path) in local_made:
            continue
        job = made_by.get(str(path))
        assert job is not None, f"{path} was not made by any SLURM job (logs in {logdir})"
        jobs.add(job)
    for job in jobs:
        assert re.search(rf"_job_complete: JobId={re.escape(job)}(\(\d+\))? WEXITSTATUS 0",
                         ctld), f"slurmctld has no successful completion of job {job}"
    return jobs


def test_tiny_workflow_on_slurm_equals_local_run(cluster, tmp_path):
    env = _snakemake_env()
    # one working directory per run (each with its own .snakemake), results inside
    local, remote, logdir = tmp_path / "local", tmp_path / "slurm", tmp_path / "slurm-logs"
    common = ["--snakefile", str(ROOT / "Snakefile"), "--configfile", str(TINY)]

    _, t_local = _run([*SNAKEMAKE, *common, "-d", str(local), "--config", f"results={local}",
                       "--cores", "2", *TARGETS], T_LOCAL, "local run of the tiny workflow",
                      env)
    out, t_slurm = _run(
        [*SNAKEMAKE, *common, "-d", str(remote), "--config", f"results={remote}",
         "--workflow-profile", str(ROOT / "workflow" / "profiles" / "slurm"),
         "--slurm-init-seconds-before-status-checks", "2", "--slurm-logdir", str(logdir),
         "--slurm-keep-successful-logs", *TARGETS],
        T_SLURM, "tiny workflow through --executor slurm", env,
        log_files=[cluster["ctld_log"]])
    print(f"local run {t_local:.1f} s, SLURM run {t_slurm:.1f} s, "
          f"cluster start {cluster['up_s']:.1f} s")
    # every output came from a SLURM job that slurmctld saw exit 0, except those of rules
    # declared local (summarise), which the submitting Snakemake runs itself
    outputs = sorted(p for p in remote.rglob("*") if p.is_file()
                     and p.relative_to(remote).parts[0] not in ("logs", "benchmarks")
                     and not p.relative_to(remote).parts[0].startswith("."))
    assert outputs, "the SLURM run produced nothing"
    _check_made_by_slurm(outputs, _local_outputs(out), logdir, _ctld_log(cluster))
    n_sims = len([p for p in outputs if p.name == "simulation.h5"])
    assert n_sims == len(list(local.rglob("simulation.h5"))) > 0

    # the same bytes as the local run
    report = compare_results(local, remote)
    print(report)
