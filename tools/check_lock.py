r"""The lock (requirements/run.txt, requirements/test.txt) against pyproject.toml, and the pins
of envs/stdnet.yaml against the lock.

    python tools/check_lock.py               # prints one line per problem, exit 1 if any
    python tools/check_lock.py --write-env   # rewrites the pins of envs/stdnet.yaml (make lock)

Offline: it reads the files, and the metadata of the locked packages that are installed here
at their pinned versions; it never asks a package index, so a new release on PyPI cannot make
it fail. What it checks:

- each lock line is one exact pin, `name==version` (an environment marker allowed), and no
  package is pinned twice;
- run.txt pins every requirement of `[project] dependencies`, test.txt those and every
  requirement of every extra, both every `[build-system] requires` and requirements/build.in,
  each at a version its specifier allows;
- the dependencies of those packages, as far as they are installed here at their pinned
  versions (the environment `make test` builds from test.txt has them all): every
  requirement that applies on this platform is pinned, at an allowed version, by a line whose
  marker applies here too (a lock that lost or broke a transitive pin fails);
- run.txt pins nothing CUDA (numba-cuda, cuda-*, nvidia-*: `make run` is CPU only), and each
  of its pins is test.txt's, so the runtime is the one the tests passed with;
- envs/stdnet.yaml pins exactly run.txt (the block `make lock` writes), python at the lock's
  minor version, and installs stdnet from `${STDNET_SOURCE}`.

Needs `packaging` (in the lock; `make lock` installs it beside uv).
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
PYTHON_MINOR = "3.11"  # the lock is compiled for it (Makefile: --python-version)
CUDA_PREFIXES = ("numba-cuda", "cuda-", "nvidia-")
ENV_BEGIN = "# BEGIN requirements/run.txt"
ENV_END = "# END requirements/run.txt"
ENV_EDITABLE = '--editable "${STDNET_SOURCE}"'
ENV_INDENT = "      "


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: Version
    requirement: Requirement  # the whole line, marker included
    line: int

    def applies(self, env: dict) -> bool:
        return self.requirement.marker is None or self.requirement.marker.evaluate(env)

    def text(self) -> str:
        req = f"{self.requirement.name}=={self.version}"
        return f"{req} ; {self.requirement.marker}" if self.requirement.marker else req


def read_lock(path: Path) -> tuple[dict[str, Pin], list[str]]:
    """The pins of a requirements file written by uv, and what is wrong with its lines."""
    pins: dict[str, Pin] = {}
    problems = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.name}:{number}"
        try:
            req = Requirement(line)
        except InvalidRequirement as e:
            problems.append(f"{where}: not a requirement ({e}): {line}")
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version \
                or req.extras or req.url:
            problems.append(f"{where}: not an exact pin name==version: {line}")
            continue
        try:
            version = Version(specs[0].version)
        except InvalidVersion:
            problems.append(f"{where}: invalid version: {line}")
            continue
        name = canonicalize_name(req.name)
        if name in pins:
            problems.append(f"{where}: {name} pinned twice (also line {pins[name].line})")
            continue
        pins[name] = Pin(name, version, req, number)
    return pins, problems


def read_in_file(path: Path) -> list[Requirement]:
    lines = (raw.split("#", 1)[0].strip() for raw in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def project_requirements(root: Path) -> dict[str, list[tuple[str, Requirement]]]:
    """What each lock must pin: (where it is asked for, requirement), per lock file."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    project = pyproject["project"]
    runtime = [("[project] dependencies", Requirement(r)) for r in project["dependencies"]]
    build = [("[build-system] requires", Requirement(r))
             for r in pyproject["build-system"]["requires"]]
    build += [("requirements/build.in", r) for r in read_in_file(root / "requirements/build.in")]
    extras = [(f"extra {extra}", Requirement(r))
              for extra, reqs in project.get("optional-dependencies", {}).items()
              for r in reqs]
    return {"run.txt": runtime + build, "test.txt": runtime + build + extras}


def check_direct(lock: str, pins: dict[str, Pin], wanted) -> list[str]:
    problems = []
    for source, req in wanted:
        name = canonicalize_name(req.name)
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{lock}: {req} ({source}) is not pinned")
        elif not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{lock}: {name}=={pin.version} violates {req} ({source})")
    return problems


def _installed(name: str, pin: Pin):
    """The distribution of a locked package when it is installed here at its pinned version."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    try:
        return dist if Version(dist.version) == pin.version else None
    except InvalidVersion:
        return None


def check_closure(lock: str, pins: dict[str, Pin], wanted, env: dict) -> tuple[list[str], int]:
    """Walk the dependencies from the project's requirements through the installed metadata
    of the locked packages; returns the problems and how many packages were walked."""
    problems = []
    seen: set[tuple[str, frozenset]] = set()
    todo = [(canonicalize_name(req.name), frozenset(req.extras)) for _, req in wanted
            if req.marker is None or req.marker.evaluate({**env, "extra": ""})]
    walked = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name not in pins:
            continue  # unpinned roots are reported by check_direct
        seen.add((name, extras))
        dist = _installed(name, pins[name])
        if dist is None:
            continue
        walked.add(name)
        for text in dist.requires or []:
            req = Requirement(text)
            applies = [""] + sorted(extras)
            if req.marker is not None and not any(
                    req.marker.evaluate({**env, "extra": e}) for e in applies):
                continue
            dep = canonicalize_name(req.name)
            pin = pins.get(dep)
            who = f"{name}=={pins[name].version} requires {req}"
            if pin is None:
                problems.append(f"{lock}: {who}, which is not pinned")
                continue
            if not pin.applies(env):
                problems.append(f"{lock}: {who}, pinned only where '{pin.requirement.marker}'")
            if not req.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{lock}: {who}, pinned at {pin.version}")
            todo.append((dep, frozenset(req.extras)))
    return problems, len(walked)


def env_block(run_pins: dict[str, Pin]) -> list[str]:
    """The pinned lines of envs/stdnet.yaml's pip section, in run.txt's order."""
    out = []
    for pin in sorted(run_pins.values(), key=lambda p: p.line):
        text = pin.text()
        quoted = "'" + text.replace("'", "''") + "'"  # YAML: a marker has quotes and spaces
        out.append(f"{ENV_INDENT}- {quoted}" if pin.requirement.marker else
                   f"{ENV_INDENT}- {text}")
    return out


def split_env(text: str) -> tuple[list[str], list[str], list[str]] | None:
    lines = text.splitlines()
    try:
        begin = next(i for i, s in enumerate(lines) if s.strip() == ENV_BEGIN)
        end = next(i for i, s in enumerate(lines) if s.strip() == ENV_END)
    except StopIteration:
        return None
    if end < begin:
        return None
    return lines[:begin + 1], lines[begin + 1:end], lines[end:]


def check_env(root: Path, run_pins: dict[str, Pin]) -> list[str]:
    path = root / "envs/stdnet.yaml"
    parts = split_env(path.read_text())
    if parts is None:
        return [f"envs/stdnet.yaml: no block '{ENV_BEGIN}' ... '{ENV_END}'"]
    head, block, tail = parts
    problems = []
    want = env_block(run_pins)
    if block != want:
        extra = sorted(set(block) - set(want))
        missing = sorted(set(want) - set(block))
        problems.append("envs/stdnet.yaml: the pins differ from requirements/run.txt (make lock "
                        f"rewrites them); only in the env file: {[s.strip() for s in extra]}; "
                        f"only in run.txt: {[s.strip() for s in missing]}")
    rest = [s.strip() for s in head + tail]
    if f"- python={PYTHON_MINOR}" not in rest:
        problems.append(f"envs/stdnet.yaml: python is not pinned at {PYTHON_MINOR}, the minor "
                        "version the lock is compiled for")
    if f"- {ENV_EDITABLE}" not in rest:
        problems.append(f"envs/stdnet.yaml: stdnet is not installed from the workflow's "
                        f"source ('- {ENV_EDITABLE}' in the pip section)")
    return problems


def write_env(root: Path, run_pins: dict[str, Pin]) -> None:
    path = root / "envs/stdnet.yaml"
    parts = split_env(path.read_text())
    if parts is None:
        raise SystemExit(f"envs/stdnet.yaml: no block '{ENV_BEGIN}' ... '{ENV_END}'")
    head, _, tail = parts
    path.write_text("\n".join(head + env_block(run_pins) + tail) + "\n")


def check(root: Path = ROOT, env: dict | None = None) -> tuple[list[str], dict[str, int]]:
    """All problems of the lock under root, and how many packages the closure walk read."""
    env = dict(default_environment()) if env is None else env
    wanted = project_requirements(root)
    problems = []
    locks = {}
    for lock in ("run.txt", "test.txt"):
        pins, bad = read_lock(root / "requirements" / lock)
        locks[lock] = pins
        problems += bad
        problems += check_direct(lock, pins, wanted[lock])
    walked = {}
    for lock, pins in locks.items():
        found, walked[lock] = check_closure(lock, pins, wanted[lock], env)
        problems += found
    run, test = locks["run.txt"], locks["test.txt"]
    problems += [f"run.txt: {name}=={pin.version} is a CUDA package; the CPU install (make run) "
                 "must not pull it (it belongs to the gpu and test extras)"
                 for name, pin in run.items() if name.startswith(CUDA_PREFIXES)]
    for name, pin in run.items():
        if name not in test:
            problems.append(f"run.txt: {name}=={pin.version} is not in test.txt")
        elif test[name].version != pin.version:
            problems.append(f"run.txt: {name}=={pin.version} but test.txt pins "
                            f"{test[name].version}: the runtime must be the one tested")
    problems += check_env(root, run)
    return problems, walked


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root")
    ap.add_argument("--write-env", action="store_true",
                    help="rewrite the pins of envs/stdnet.yaml from requirements/run.txt first")
    args = ap.parse_args(argv)
    if args.write_env:
        pins, bad = read_lock(args.root / "requirements/run.txt")
        if bad:
            print("\n".join(bad), file=sys.stderr)
            return 1
        write_env(args.root, pins)
    problems, walked = check(args.root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"lock check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"lock check: ok (dependencies walked through installed metadata: "
          f"{walked['run.txt']} packages of run.txt, {walked['test.txt']} of test.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
