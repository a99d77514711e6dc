"""Transfer functions phi(h), their derivatives and inverses.

Numba kernels cannot take Python callables cheaply, so every transfer function
has an integer code and the scalar functions below branch on it. The branch is
the same for every neuron, so it costs nothing measurable next to the synaptic
gather.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

SOFTPLUS, RELU, SIGMOID, TANH = 0, 1, 2, 3

#: name -> integer code used inside numba kernels
TRANSFER_CODES = {"softplus": SOFTPLUS, "relu": RELU, "sigmoid": SIGMOID, "tanh": TANH}
TRANSFER_NAMES = tuple(TRANSFER_CODES)


def transfer_code(name: str) -> int:
    """Integer code of a transfer function, with a clear error for unknown names."""
    try:
        return TRANSFER_CODES[name]
    except KeyError:
        raise ValueError(
            f"transfer: unknown transfer function {name!r}; allowed: {', '.join(TRANSFER_NAMES)}"
        ) from None


@njit(cache=True, inline="always")
def phi_scalar(code, h):
    if code == SOFTPLUS:
        # log(1 + e^h) without overflow for large h
        if h > 0.0:
            return h + math.log1p(math.exp(-h))
        return math.log1p(math.exp(h))
    elif code == RELU:
        return h if h > 0.0 else 0.0
    elif code == SIGMOID:
        if h >= 0.0:
            return 1.0 / (1.0 + math.exp(-h))
        e = math.exp(h)
        return e / (1.0 + e)
    else:
        return math.tanh(h)


@njit(cache=True, inline="always")
def dphi_scalar(code, h):
    if code == SOFTPLUS:
        if h >= 0.0:
            return 1.0 / (1.0 + math.exp(-h))
        e = math.exp(h)
        return e / (1.0 + e)
    elif code == RELU:
        return 1.0 if h > 0.0 else 0.0
    elif code == SIGMOID:
        if h >= 0.0:
            s = 1.0 / (1.0 + math.exp(-h))
        else:
            e = math.exp(h)
            s = e / (1.0 + e)
        return s * (1.0 - s)
    else:
        t = math.tanh(h)
        return 1.0 - t * t


@njit(cache=True)
def phi_array(code, h, out):
    for i in range(h.shape[0]):
        out[i] = phi_scalar(code, h[i])


@njit(cache=True)
def dphi_array(code, h, out):
    for i in range(h.shape[0]):
        out[i] = dphi_scalar(code, h[i])


def phi(name: str, h):
    """phi(h) for a named transfer function, elementwise on arrays or scalars."""
    arr = np.atleast_1d(np.asarray(h, dtype=np.float64))
    out = np.empty_like(arr)
    phi_array(transfer_code(name), arr.ravel(), out.ravel())
    return out.reshape(np.shape(h)) if np.ndim(h) else float(out[0])


def dphi(name: str, h):
    """phi'(h) for a named transfer function, elementwise on arrays or scalars."""
    arr = np.atleast_1d(np.asarray(h, dtype=np.float64))
    out = np.empty_like(arr)
    dphi_array(transfer_code(name), arr.ravel(), out.ravel())
    return out.reshape(np.shape(h)) if np.ndim(h) else float(out[0])


def phi_inverse(name: str, nu: float) -> float:
    """The input h with phi(h) = nu, where phi is invertible at nu (a starting guess for solvers)."""
    code = transfer_code(name)
    if code == SOFTPLUS:
        if nu <= 0:
            raise ValueError(f"softplus rate must be > 0, got {nu}")
        return float(nu + math.log(-math.expm1(-nu)))  # log(e^nu - 1), stable
    if code == RELU:
        return float(nu)
    if code == SIGMOID:
        if not 0 < nu < 1:
            raise ValueError(f"sigmoid rate must be in (0, 1), got {nu}")
        return float(math.log(nu / (1.0 - nu)))
    if not -1 < nu < 1:
        raise ValueError(f"tanh output must be in (-1, 1), got {nu}")
    return float(math.atanh(nu))
