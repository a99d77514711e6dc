"""The lock (requirements/*.txt) against pyproject.toml and envs/stdnet.yaml:
tools/check_lock.py on this repository, and on copies broken one way each."""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = ["pyproject.toml", "requirements/run.txt", "requirements/test.txt",
         "requirements/build.in", "envs/stdnet.yaml"]


def _tool():
    spec = importlib.util.spec_from_file_location("check_lock", ROOT / "tools/check_lock.py")
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool  # its dataclass looks its module up there
    spec.loader.exec_module(tool)
    return tool


check_lock = _tool()


@pytest.fixture
def repo(tmp_path):
    """A copy of the files the check reads."""
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, count))


def _pin(lock: str, name: str) -> str:
    return re.search(rf"^{re.escape(name)}==(\S+)", (ROOT / lock).read_text(), re.M).group(1)


def test_lock_is_consistent():
    problems, walked = check_lock.check(ROOT)
    assert problems == []


def test_lock_closure_is_walked_where_installed():
    """In the environment `make test` builds (requirements/test.txt), every locked package
    is installed at its pin, so the walk through their metadata reaches most of the lock."""
    from importlib import metadata

    pins, _ = check_lock.read_lock(ROOT / "requirements/test.txt")
    if metadata.version("numpy") != str(pins["numpy"].version):
        pytest.skip("this environment is not the lock's (make test installs it)")
    _, walked = check_lock.check(ROOT)
    assert walked["run.txt"] >= 50 and walked["test.txt"] > walked["run.txt"]


def test_run_lock_has_no_cuda_and_test_lock_has_the_simulator_wheels():
    run = (ROOT / "requirements/run.txt").read_text()
    test = (ROOT / "requirements/test.txt").read_text()
    assert not re.search(r"^(nvidia-|cuda-|numba-cuda)", run, re.M)
    for name in ("numba-cuda", "nvidia-nvvm", "cuda-bindings"):
        assert re.search(rf"^{name}==", test, re.M), name


def test_env_file_is_self_contained():
    """envs/stdnet.yaml: python, snakemake, the SLURM plugin and the scientific stack at the
    lock's versions, and stdnet from the workflow's source (an absolute path, from the
    environment, not relative to Snakemake's copy of the file in .snakemake/conda/)."""
    spec = yaml.safe_load((ROOT / "envs/stdnet.yaml").read_text())
    deps = spec["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    for name in ("snakemake", "snakemake-executor-plugin-slurm", "numpy", "numba", "h5py"):
        assert f"{name}=={_pin('requirements/run.txt', name)}" in pip, name
    assert pip[-1] == '--editable "${STDNET_SOURCE}"'
    assert not any(line.startswith(("nvidia-", "numba-cuda")) for line in pip)


def test_check_passes_on_a_faithful_copy(repo):
    assert check_lock.check(repo)[0] == []


def test_check_fails_when_a_dependency_is_not_pinned(repo):
    _edit(repo / "pyproject.toml", '"threadpoolctl>=3.2",', '"threadpoolctl>=3.2", "tqdm>=4",')
    problems = check_lock.check(repo)[0]
    assert any("tqdm>=4 ([project] dependencies) is not pinned" in p for p in problems)
    assert any(p.startswith("test.txt: tqdm") for p in problems)


def test_check_fails_when_a_pin_violates_pyproject(repo):
    numpy = _pin("requirements/run.txt", "numpy")
    _edit(repo / "pyproject.toml", '"numpy>=1.26"', '"numpy>=99"')
    problems = check_lock.check(repo)[0]
    assert f"run.txt: numpy=={numpy} violates numpy>=99 ([project] dependencies)" in problems


def test_check_fails_when_an_extra_is_not_locked(repo):
    _edit(repo / "pyproject.toml", '"ruff>=0.4",', '"ruff>=0.4", "hypothesis>=6",')
    problems = check_lock.check(repo)[0]
    assert any("hypothesis>=6 (extra test) is not pinned" in p for p in problems)


def test_check_fails_when_the_build_backend_is_not_locked(repo):
    _edit(repo / "pyproject.toml", 'requires = ["setuptools>=77", "wheel"]',
          'requires = ["setuptools>=999", "wheel"]')
    problems = check_lock.check(repo)[0]
    assert any("violates setuptools>=999 ([build-system] requires)" in p for p in problems)


def test_check_fails_on_cuda_in_the_runtime_lock(repo):
    line = next(s for s in (ROOT / "requirements/test.txt").read_text().splitlines()
                if s.startswith("nvidia-nvvm=="))
    (repo / "requirements/run.txt").write_text((repo / "requirements/run.txt").read_text()
                                               + line + "\n")
    problems = check_lock.check(repo)[0]
    assert any("nvidia-nvvm" in p and "CUDA package" in p for p in problems)


def test_check_fails_when_run_and_test_disagree(repo):
    scipy = _pin("requirements/run.txt", "scipy")
    _edit(repo / "requirements/test.txt", f"scipy=={scipy}", "scipy==1.11.0")
    problems = check_lock.check(repo)[0]
    assert f"run.txt: scipy=={scipy} but test.txt pins 1.11.0: the runtime must be the one " \
           "tested" in problems


def test_check_fails_on_a_loose_or_duplicate_line(repo):
    run = repo / "requirements/run.txt"
    run.write_text(run.read_text() + "tqdm>=4\nyte==1.0\n")
    problems = check_lock.check(repo)[0]
    assert any("not an exact pin name==version: tqdm>=4" in p for p in problems)
    assert any("yte pinned twice" in p for p in problems)


def test_check_fails_when_the_env_file_drifts(repo):
    snakemake = _pin("requirements/run.txt", "snakemake")
    _edit(repo / "envs/stdnet.yaml", f"- snakemake=={snakemake}\n", "")
    _edit(repo / "envs/stdnet.yaml", "- python=3.11", "- python=3.12")
    _edit(repo / "envs/stdnet.yaml", '- --editable "${STDNET_SOURCE}"', "- --editable ../..")
    problems = check_lock.check(repo)[0]
    assert any("pins differ from requirements/run.txt" in p and f"snakemake=={snakemake}" in p
               for p in problems)
    assert any("python is not pinned at 3.11" in p for p in problems)
    assert any("not installed from the workflow's source" in p for p in problems)


def test_write_env_restores_the_pins(repo):
    env = repo / "envs/stdnet.yaml"
    faithful = env.read_text()
    _edit(env, "- numpy==", "- numpy==0.0.1  # ")
    assert check_lock.check(repo)[0] != []
    assert check_lock.main(["--root", str(repo), "--write-env"]) == 0
    assert env.read_text() == faithful
