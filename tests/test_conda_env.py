"""`snakemake --sdm conda` with envs/stdnet.yaml: the environment installs stdnet from the
workflow's own source, and the jobs import it from there.

conda itself cannot be installed here (no conda channel is reachable), so tests/fake_conda.py
stands in for it: it answers Snakemake's questions, builds the environment as a venv that sees
this Python's packages for the conda part of the env file, and runs real pip on the pip
section the way conda does (from Snakemake's copy of the file in .snakemake/conda/, with
pip's own expansion of ${STDNET_SOURCE}).

The workflow runs from a copy of the repository, and the copy's stdnet records, when a job
imports it, where from: the Python running Snakemake imports the original stdnet, so only the
environment's editable install of the copy can write that record. Before this env file
installed stdnet, the jobs imported it through the sys.path that Snakemake appends to
`script:` jobs, that is from the original, and no record was written.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
TARGET = "results-tiny/tables/fixed_point_theory.csv"  # a localrule with conda:, seconds
RECORD = """
# added by tests/test_conda_env.py: where a job imported this copy of stdnet from
import json as _json
import sys as _sys
_script = _sys.modules.get("snakemake.script")
with open({record!r}, "a") as _f:
    _f.write(_json.dumps({{"file": __file__, "prefix": _sys.prefix,
                          "rule": getattr(getattr(_script, "snakemake", None), "rule", None)}})
             + "\\n")
"""


def _lock_problem() -> str | None:
    """Why this Python cannot stand in for the environment's packages: the fake builds with
    --no-index, so every pin of requirements/run.txt must be installed here."""
    wrong = []
    for raw in (ROOT / "requirements/run.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s*(?:;\s*([^#]+))?", raw)
        if not m:
            continue
        name, version, marker = m.groups()
        if marker:
            from packaging.markers import Marker

            if not Marker(marker).evaluate():
                continue
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have is None or Version(have) != Version(version):
            wrong.append(f"{name}=={version} (here: {have})")
    if wrong:
        return ("this Python's packages are not the lock's (make test installs "
                f"requirements/test.txt): {', '.join(wrong[:5])}")
    return None


def _copy_repository(dest: Path) -> Path:
    skip = shutil.ignore_patterns(".git", ".venv*", ".snakemake", "results*", "__pycache__",
                                  "*.egg-info", ".pytest_cache", ".whl", "build", "dist")
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


_LOCK_PROBLEM = _lock_problem()


@pytest.mark.skipif(_LOCK_PROBLEM is not None, reason=str(_LOCK_PROBLEM))
def test_sdm_conda_jobs_import_stdnet_from_the_workflow_source(tmp_path):
    source = _copy_repository(tmp_path / "source")
    record = tmp_path / "imports.jsonl"
    init = source / "src/stdnet/__init__.py"
    init.write_text(init.read_text() + RECORD.format(record=str(record)))

    fake = ROOT / "tests/fake_conda.py"
    bindir = subprocess.run([sys.executable, fake, "install", tmp_path / "conda"],
                            capture_output=True, text=True, check=True).stdout.strip()
    log = tmp_path / "conda.jsonl"
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
           "FAKE_CONDA_LOG": str(log), "NUMBA_NUM_THREADS": "1"}
    env.pop("STDNET_SOURCE", None)  # the workflow sets it
    work = tmp_path / "work"
    cmd = [sys.executable, "-m", "snakemake", "-s", source / "Snakefile", "-d", work,
           "--configfile", source / "tests/data/tiny.yaml", "--sdm", "conda", "--cores", "1",
           TARGET]
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                         timeout=900)
    calls = [json.loads(s) for s in log.read_text().splitlines()] if log.exists() else []
    created = [c for c in calls if c["call"] == "env create"]
    pip_out = created[0].get("pip_output", "") if created else ""
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:] + pip_out
    assert (work / TARGET).is_file()

    # one environment, created from Snakemake's verbatim copy of the env file in the working
    # directory, whose pip section still says ${STDNET_SOURCE}: pip resolved it
    assert len(created) == 1, calls
    made = created[0]
    prefix = Path(made["prefix"])
    assert Path(made["file"]).parent == work / ".snakemake" / "conda"
    assert made["env_file_text"] == (source / "envs/stdnet.yaml").read_text()
    assert '--editable "${STDNET_SOURCE}"' in made["requirements_text"]
    assert re.search(r"^snakemake==\S+$", made["requirements_text"], re.M)
    assert made["pip_returncode"] == 0

    # the job imported the copy's stdnet, inside the environment
    imports = [json.loads(s) for s in record.read_text().splitlines()] if record.exists() \
        else []
    jobs = [i for i in imports if i["rule"] == "fixed_point_theory"]
    assert jobs, ("no job imported stdnet from the workflow's source (it came from the "
                  f"Python running Snakemake instead); records: {imports}")
    assert all(Path(i["file"]) == init for i in jobs)
    assert all(Path(i["prefix"]).resolve() == prefix.resolve() for i in jobs)
