"""Room for the copies Snakemake makes of the tables and figures a run redoes.

Every table and figure output is flagged `update` (`kept(...)` in workflow/rules/common.smk):
before its job runs, Snakemake copies the previous version into .snakemake/backups, and
restores it if the job fails. On a disk without room for that copy Snakemake stops the
whole run with its own traceback (ENOSPC in shutil.copy, a truncated copy left behind),
outside any job's log. The workflow's start (onstart) compares the room left with what the
run will write for those outputs, a copy and a new version of each, plus MARGIN_BYTES, and
refuses to start where it is short.
"""
from __future__ import annotations

from pathlib import Path

from stdnet.files.space import format_bytes, free_bytes, nearest_existing

#: room kept beyond the copies and the new versions: the jobs' logs (with their 64 kB
#: reserves, stdnet.workflow.joblog), benchmark files and Snakemake's own records
MARGIN_BYTES = 10_000_000


def backup_space_problem(kept_outputs, backup_dir, margin: int = MARGIN_BYTES) -> str | None:
    """Why the disk cannot take what the run writes for `kept_outputs` (the `update` outputs
    of the jobs it runs; those that exist are copied into `backup_dir`, and each is written
    again next to itself), or None. Bytes are counted per file system: the copies on the
    one of backup_dir, the new versions on each output's own; the margin on each."""
    sizes = {Path(f): Path(f).stat().st_size for f in kept_outputs if Path(f).is_file()}
    if not sizes:
        return None
    total = sum(sizes.values())
    need: dict = {}  # file system -> [bytes, a folder on it]

    def add(folder: Path, n: int) -> None:
        need.setdefault(nearest_existing(folder).stat().st_dev, [margin, folder])[0] += n

    add(Path(backup_dir), total)  # the copies
    for path, n in sizes.items():  # the new versions
        add(path.parent, n)
    for n, folder in need.values():
        free = free_bytes(folder)
        if free is not None and free < n:
            return (f"not enough free space to keep the previous versions of the {len(sizes)} "
                    f"tables and figures this run redoes ({format_bytes(total)}): Snakemake "
                    f"copies them to {backup_dir} before their jobs write new ones, which needs "
                    f"{format_bytes(n)} on the file system of {folder} (with a margin of "
                    f"{format_bytes(margin)}); it has {format_bytes(free)} free. Free space (a "
                    f"{backup_dir} left by an earlier run may be deleted) and rerun")
    return None
