"""CSV tables of the workflow (results/tables/*.csv): the one writer and its reader.

write_table writes atomically (io.atomic_path), without the index; float_format None writes
every float exactly (shortest round-trip repr), e.g. for theory curves that figures draw.
read_table reads them back with a correctly rounded float parser (pandas' default from
pandas 3 on, its round-trip converter before), so such a table reads back bit for bit
(tests/test_fixed_point.py).
"""
from __future__ import annotations

import pandas as pd

from stdnet.files.io import atomic_path

_EXACT = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def write_table(table: pd.DataFrame, path, float_format: str | None = None) -> None:
    """Write `table` to `path` as CSV (atomically; float_format e.g. "%.8g", None: exact)."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format=float_format)


def read_table(path) -> pd.DataFrame:
    """A table written by write_table."""
    return pd.read_csv(path, **_EXACT)
