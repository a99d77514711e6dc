"""The local workflow profile (profiles/default) is found and takes effect.

Snakemake looks for `profiles/default` in the working directory and next to the Snakefile
(snakemake/cli.py, parse_args); a profile anywhere else is silently ignored. A dry run of
the workflow must announce it, and its `rerun-incomplete` must reschedule the output of a
killed job without the flag on the command line (a scratch workflow, a job killed by us).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "default" / "config.yaml"
ANNOUNCE = "Using workflow specific profile profiles/default"
SNAKEFILE = """\
rule all:
    input: "out.txt"

rule make:
    output: "out.txt"
    shell: "echo partial > {output}; sleep 60; echo done >> {output}"
"""


def _snakemake(cwd, *args, timeout=120):
    cmd = [sys.executable, "-m", "snakemake", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_workflow_dry_run_loads_the_default_profile(tmp_path):
    res = _snakemake(ROOT, "-n", "--configfile", "tests/data/tiny.yaml",
                     "--config", f"results={tmp_path}", "--quiet", "all")
    assert res.returncode == 0, res.stderr[-3000:]
    assert ANNOUNCE in res.stderr


def _killed_run(work: Path) -> None:
    """Start the scratch workflow without any profile and kill it (SIGKILL, its whole
    process group) once the job has begun writing: Snakemake leaves its incomplete marker."""
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1",
                             "--workflow-profile", "none"], cwd=work, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (work / "out.txt").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the job never started"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert any((work / ".snakemake" / "incomplete").rglob("*")), "no incomplete marker"


def test_rerun_incomplete_from_the_profile(tmp_path):
    work = tmp_path / "scratch"
    (work / "profiles" / "default").mkdir(parents=True)
    shutil.copy(PROFILE, work / "profiles" / "default" / "config.yaml")
    (work / "Snakefile").write_text(SNAKEFILE)
    _killed_run(work)

    # with the profile (found by itself): the killed job's output is scheduled again
    # (rerun-incomplete forces it) and its command printed (printshellcmds)
    res = _snakemake(work, "-n")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert ANNOUNCE in res.stderr
    make = out.split("rule make:")[1].split("rule all:")[0]
    assert "reason: Forced execution" in make and "Shell command: echo partial" in make

    # without it Snakemake refuses to go on: the setting comes from the profile
    res = _snakemake(work, "-n", "--workflow-profile", "none")
    assert res.returncode != 0
    assert "IncompleteFilesException" in res.stdout + res.stderr
