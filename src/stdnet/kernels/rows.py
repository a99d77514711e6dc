"""Index rows and per-neuron constants as the kernels read them, for every ensemble.

A kernel takes the presynaptic rows of one population as either
- an (N, K) array: the paper's fixed in-degree, row i is rows[i]; or
- a tuple (flat, ptr): variable in-degrees, row i is flat[ptr[i]:ptr[i+1]]
(stdnet.model.network.Network.rows_E). Likewise u and tau_D are either the model's scalar
or one value per E neuron (Network.u_of). The functions below pick the form at compile
time (numba overloads on the argument's type), so a kernel is written once and its
fixed-in-degree, scalar-constant specialisation is the same machine code as before the
other forms existed: same speed, same bits.
"""
from __future__ import annotations

from numba import types
from numba.extending import overload


def n_rows(rows):
    """The number of rows (neurons) of a population's presynaptic rows."""
    return rows[1].shape[0] - 1 if isinstance(rows, tuple) else rows.shape[0]


def row_of(rows, i):
    """Row i: the presynaptic indices of neuron i."""
    if isinstance(rows, tuple):
        flat, ptr = rows
        return flat[ptr[i]:ptr[i + 1]]
    return rows[i]


def value_at(value, i):
    """A per-neuron constant of neuron i: value[i], or value itself for a scalar."""
    return value if isinstance(value, (int, float)) else value[i]


# Not inline="always": numba's IR inliner binds the arguments as variables of the caller,
# and a prange index of the same name is then "overwritten"; LLVM inlines these anyway.
@overload(n_rows)
def _n_rows(rows):
    if isinstance(rows, types.BaseTuple):
        return lambda rows: rows[1].shape[0] - 1
    return lambda rows: rows.shape[0]


@overload(row_of)
def _row_of(rows, i):
    if isinstance(rows, types.BaseTuple):
        return lambda rows, i: rows[0][rows[1][i]:rows[1][i + 1]]
    return lambda rows, i: rows[i]


@overload(value_at)
def _value_at(value, i):
    if isinstance(value, types.Array):
        return lambda value, i: value[i]
    return lambda value, i: value
