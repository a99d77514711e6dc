"""The format of every progress line's times: elapsed and estimated time left."""
from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """H:MM:SS of a duration (the ETA of every progress line), '?' when unknown."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(max(seconds, 0.0)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{sec:02d}"
