"""Which results folder, and which files in it, are stdnet's to write, move and redo.

A results folder is stdnet's when it holds the marker file `.stdnet-results` (written by the
first run into it: stdnet version and date). A folder that does not exist yet or is empty is
claimed by the run; one from an earlier version without the marker (only stdnet's own top
level entries besides the user's notes) is claimed too. Any other folder with files in it
is refused before anything happens there: stdnet never writes among, moves or deletes files
it did not write. Creating the marker by hand (`touch <folder>/.stdnet-results`) tells it
to use such a folder anyway.

Inside its folder stdnet still only touches its own paths: the start-up recovery
(stdnet.workflow.recovery) considers only the HDF5 files at the places the workflow writes them
(`is_stdnet_h5`).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from pathlib import Path

from stdnet import __version__
from stdnet.files.io import write_text

MARKER = ".stdnet-results"

#: top-level entries of a results folder that the workflow writes (run folders N~<int>)
STDNET_ENTRIES = re.compile(r"^(N~\d+|tables|figures|logs|benchmarks|onset|stability|dmf|"
                            r"\.damaged|\.snakemake)$")

#: the HDF5 files the workflow writes, relative to the results folder (with their
#: checkpoints, `<stem>.checkpoint.h5`)
_POINT = r"N~\d+/J0~[^/]+/seed~\d+/"
STDNET_H5 = re.compile(
    rf"^({_POINT}(simulation|lyapunov|inputs)|stability/N~\d+/seed~\d+/(jfp|spectrum)|"
    r"stability/(hetfp|routes)|dmf/N~[^/]+/J0~[^/_]+_I0~[^/]+/dmf)(\.checkpoint)?\.h5$")


def is_stdnet_h5(relative) -> bool:
    """True for a path (relative to the results folder) where the workflow writes HDF5."""
    return STDNET_H5.match(Path(relative).as_posix()) is not None


def ownership_problem(results) -> str | None:
    """None when stdnet may write into the folder `results` (absent, empty, marked, or
    only stdnet's own entries and the user's notes), else why not, with what to do."""
    folder = Path(results)
    if not folder.is_dir() or (folder / MARKER).is_file():
        return None
    entries = os.listdir(folder)
    if not entries or any(STDNET_ENTRIES.match(e) for e in entries):
        return None
    shown = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
    return (f"config key 'results': the folder {str(results)!r} holds files stdnet did not "
            f"write ({shown}) and no {MARKER} marker; allowed: a new or empty folder, or one "
            f"of stdnet's. To use this one anyway (stdnet then adds its own files and never "
            f"moves or deletes the others), create the marker: touch "
            f"{os.path.join(str(results), MARKER)}")


def claim(results) -> bool:
    """Create the folder if needed and write the marker (stdnet version, date) unless it is
    there. Returns True when the marker was written now."""
    folder = Path(results)
    if (folder / MARKER).is_file():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / MARKER, json.dumps({
        "stdnet": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}) + "\n")
    return True
