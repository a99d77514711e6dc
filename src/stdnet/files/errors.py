"""Expected failures, each with the exit code `stdnet` ends with (docs/errors.md).

Every error a user can cause or meet (bad input, a diverging run, a full disk, a
damaged file) is one of these classes. The command line prints its message as one
line and exits with its code; only `--debug` shows the traceback. Anything else that
escapes is a bug (exit code 1).

Each class also derives from the built-in exception that code written before this
module caught (ValueError, RuntimeError, OSError), so those handlers keep working.
"""
from __future__ import annotations

#: exit code -> what it means; the table in docs/errors.md is checked against this
EXIT_CODES = {
    0: "success",
    1: "internal error (a bug: rerun with --debug and report the traceback)",
    2: "invalid input: a configuration key, command-line option or argument",
    3: "the integration diverged (non-finite state)",
    4: "no fixed point: the homogeneous fixed point did not converge",
    5: "not enough memory (or other resources) for the job",
    6: "checkpoint unreadable, damaged or written by another run",
    7: "output cannot be written (not writable, disk full, another writer holds it)",
    8: "input file missing, unreadable, truncated or not written by stdnet",
    9: "`stdnet status`: some grid points are not done (failed, corrupt, incomplete, not run)",
    130: "interrupted (Ctrl-C)",
    143: "terminated (SIGTERM, e.g. a scheduler's time limit)",
}


class StdnetError(Exception):
    """Base of the expected failures; `exit_code` is what the command line returns."""

    exit_code = 1


class InputError(StdnetError, ValueError):
    """A configuration value, option or argument that is not allowed."""

    exit_code = 2


class DivergenceError(StdnetError, RuntimeError):
    """The integration produced a non-finite state."""

    exit_code = 3


class FixedPointError(StdnetError, RuntimeError):
    """A fixed-point solver did not converge."""

    exit_code = 4


class ResourceError(StdnetError, MemoryError):
    """The job needs more memory (or another resource) than it has."""

    exit_code = 5


class CheckpointError(StdnetError, ValueError):
    """A checkpoint that cannot be resumed: unreadable, damaged or from another run."""

    exit_code = 6


class OutputError(StdnetError, OSError):
    """An output that cannot be written: not writable, disk full, claimed by another writer."""

    exit_code = 7


class InputFileError(StdnetError, OSError):
    """An input file that is missing, unreadable, truncated or not a stdnet file."""

    exit_code = 8
