"""Room for Snakemake's copies of the tables and figures a run redoes
(stdnet.workflow.backups): refused at the start, with the numbers, where they do not fit.
The free space is the file system's answer, played by shutil.disk_usage."""
from __future__ import annotations

from types import SimpleNamespace

from stdnet.files import space
from stdnet.workflow.backups import backup_space_problem


def _outputs(tmp_path):
    (tmp_path / "tables").mkdir(exist_ok=True)
    (tmp_path / "tables" / "runs.csv").write_bytes(b"x" * 5000)
    (tmp_path / "tables" / "map.png").write_bytes(b"x" * 3000)
    # not made yet: nothing to copy
    return [tmp_path / "tables" / n for n in ("runs.csv", "map.png", "onset.csv")]


def test_refused_where_copies_and_new_versions_do_not_fit(tmp_path, monkeypatch):
    backups = tmp_path / ".snakemake" / "backups"
    monkeypatch.setattr(space.shutil, "disk_usage", lambda p: SimpleNamespace(free=20_000))
    # one file system: the copies (8 kB), the new versions (8 kB) and the margin
    assert backup_space_problem(_outputs(tmp_path), backups, margin=10_000) == (
        f"not enough free space to keep the previous versions of the 2 tables and figures "
        f"this run redoes (8 kB): Snakemake copies them to {backups} before their jobs write "
        f"new ones, which needs 26 kB on the file system of {backups} (with a margin of 10 "
        f"kB); it has 20 kB free. Free space (a {backups} left by an earlier run may be "
        f"deleted) and rerun")
    monkeypatch.setattr(space.shutil, "disk_usage", lambda p: SimpleNamespace(free=26_000))
    assert backup_space_problem(_outputs(tmp_path), backups, margin=10_000) is None


def test_nothing_to_copy_needs_no_room(tmp_path, monkeypatch):
    monkeypatch.setattr(space.shutil, "disk_usage", lambda p: SimpleNamespace(free=0))
    assert backup_space_problem([tmp_path / "tables" / "runs.csv"], tmp_path / "b") is None
