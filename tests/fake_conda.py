r"""A stand-in for `conda`, for tests/test_conda_env.py: no conda channel is reachable from the
machines this project is tested on.

    fake_conda.py install ROOT    # ROOT/bin/conda (this script) and ROOT/bin/activate

Snakemake (`--sdm conda`) finds `conda` on PATH and asks it `conda info --json` (ROOT is the
`conda_prefix`), `conda --version`, `conda config --get channel_priority --json`, then runs
`conda env create --quiet --no-default-packages --file F --prefix P`, `conda clean -y
--tarballs` (nothing to clean here), and every job of the environment as
`source ROOT/bin/activate P; python script.py`. This script answers all of it;
anything else exits 2 (and is logged), so an unexpected call fails the test.

`env create` does what conda does, with one substitution:

- the conda dependencies of F: python must be pinned at this Python's minor version; the
  environment P is a venv of this Python, without pip, whose site-packages reaches the
  packages installed beside this script's interpreter through a .pth file (a path, so the
  .pth files there, such as an editable stdnet's, are not read). That stands in for
  conda's solve and download;
- the pip section goes to real pip as conda hands it over: its lines, verbatim, in
  condaenv.<random>.requirements.txt beside F, and `python -m pip install -U -r <file>` run
  with P's python from F's folder (conda's pip_util). Here with --no-index: nothing may be
  downloaded, so every pin must be one installed here (the lock: `make test` installs
  requirements/test.txt), and --no-build-isolation (stdnet is built with the locked
  setuptools). pip expands `${NAME}` in the lines from the environment it inherits.

Every call is appended to $FAKE_CONDA_LOG (one JSON object per line): the arguments, and for
`env create` the text of F and of the requirements file.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import yaml

ACTIVATE = """\
# sourced by Snakemake: source ROOT/bin/activate ENV (what conda's activate does for a job)
export CONDA_PREFIX="$1"
export CONDA_DEFAULT_ENV="$1"
export PATH="$1/bin:$PATH"
"""


def install(root: Path) -> Path:
    """ROOT/bin/conda and ROOT/bin/activate; returns ROOT/bin (to put first on PATH)."""
    bindir = root / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    conda = bindir / "conda"
    conda.write_text(f"#!/bin/sh\nexport FAKE_CONDA_ROOT='{root}'\nexec '{sys.executable}' "
                     f"'{Path(__file__).resolve()}' \"$@\"\n")
    conda.chmod(0o755)
    (bindir / "activate").write_text(ACTIVATE)
    return bindir


def log(entry: dict) -> None:
    path = os.environ.get("FAKE_CONDA_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def env_create(args: list[str]) -> int:
    opts = {}
    it = iter(args)
    for a in it:
        if a in ("--file", "--prefix"):
            opts[a] = next(it)
        elif a not in ("--quiet", "--no-default-packages"):
            print(f"fake conda: env create: unexpected argument {a}", file=sys.stderr)
            return 2
    env_file, prefix = Path(opts["--file"]), Path(opts["--prefix"])
    spec = yaml.safe_load(env_file.read_text())
    entry = {"call": "env create", "file": str(env_file), "prefix": str(prefix),
             "env_file_text": env_file.read_text()}
    conda_deps = [d for d in spec["dependencies"] if isinstance(d, str)]
    pip_lines = next((d["pip"] for d in spec["dependencies"] if isinstance(d, dict)), [])
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    if f"python={minor}" not in conda_deps:
        print(f"fake conda: the env file must pin python={minor} (this Python); it lists "
              f"{conda_deps}", file=sys.stderr)
        log(entry)
        return 1

    venv.EnvBuilder(with_pip=False).create(prefix)
    env_python = prefix / "bin" / "python"
    site = subprocess.run([env_python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site.stdout.strip(), "zz_fake_conda_packages.pth").write_text(
        "".join(f"{p}\n" for p in sorted(here)))

    # conda's pip_util: the lines in a file beside the env file, pip run from that folder
    requirements = env_file.parent / f"condaenv.{secrets.token_hex(4)}.requirements.txt"
    requirements.write_text("\n".join(pip_lines) + "\n")
    entry["requirements_text"] = requirements.read_text()
    try:
        out = subprocess.run([env_python, "-m", "pip", "install", "-U", "-r", requirements.name,
                              "--exists-action=b", "--no-index", "--no-build-isolation"],
                             cwd=env_file.parent, capture_output=True, text=True)
    finally:
        requirements.unlink()
    entry["pip_returncode"] = out.returncode
    entry["pip_output"] = out.stdout[-4000:] + out.stderr[-4000:]
    log(entry)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    return out.returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["install"]:
        print(install(Path(argv[1])))
        return 0
    log({"call": " ".join(argv)})
    if argv == ["--version"]:
        print("conda 25.1.1")
        return 0
    if argv == ["info", "--json"]:
        prefix = Path(os.environ["FAKE_CONDA_ROOT"])
        print(json.dumps({"conda_prefix": str(prefix), "root_prefix": str(prefix),
                          "platform": "linux-64", "conda_version": "25.1.1"}))
        return 0
    if argv == ["config", "--get", "channel_priority", "--json"]:
        print(json.dumps({"get": {"channel_priority": "strict"}, "rc_path": None}))
        return 0
    if argv[:1] == ["clean"]:  # Snakemake's --conda-cleanup-pkgs (tarballs by default)
        return 0
    if argv[:2] == ["env", "create"]:
        return env_create(argv[2:])
    print(f"fake conda: not implemented: conda {' '.join(argv)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
