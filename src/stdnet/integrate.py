"""Numba kernels: the network vector field and fixed-step RK4 / Euler integration.

State layout: one float64 vector y of length N + N_E, y[:N] the input currents
h of all neurons (E first, then I), y[N:] the efficacies x of the E neurons.

Kernels take arrays and scalars only. Each neuron's synaptic sum is a sequential
loop over its own index row, so results are bit-identical for any thread count.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .transfer import phi_scalar


@njit(cache=True, parallel=True)
def vector_field(y, dy, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                 I0, tau_E, tau_I, tau_D, u, nu, s):
    """dy = F(y). `nu` (N) and `s` (N_E) are scratch arrays for rates and x*nu.

    E rows gather depressed inputs s_j = x_j nu_j, I rows plain rates nu_j; both
    gather inhibitory rates. One pass over the index rows: cost N*(K_E + K_I).
    """
    N = pre_E.shape[0]
    K_E = pre_E.shape[1]
    K_I = pre_I.shape[1]
    for j in prange(N):
        nu[j] = phi_scalar(code, y[j])
    for j in prange(N_E):
        s[j] = y[N + j] * nu[j]
    a_E = Jc * g_EE
    b_E = Jc * g_EI
    a_I = Jc * g_IE
    b_I = Jc * g_II
    inv_E = 1.0 / tau_E
    inv_I = 1.0 / tau_I
    inv_D = 1.0 / tau_D
    for i in prange(N):
        exc = 0.0
        inh = 0.0
        if i < N_E:
            for k in range(K_E):
                exc += s[pre_E[i, k]]
        else:
            for k in range(K_E):
                exc += nu[pre_E[i, k]]
        for k in range(K_I):
            inh += nu[N_E + pre_I[i, k]]
        if i < N_E:
            dy[i] = (-y[i] + I0 + a_E * exc - b_E * inh) * inv_E
        else:
            dy[i] = (-y[i] + I0 + a_I * exc - b_I * inh) * inv_I
    for j in prange(N_E):
        x = y[N + j]
        dy[N + j] = (1.0 - x) * inv_D - u * x * nu[j]


@njit(cache=True)
def _all_finite(y):
    for v in y:
        if not (abs(v) < 1e300):
            return False
    return True


@njit(cache=True)
def advance(y, n_steps, method, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
            g_II, I0, tau_E, tau_I, tau_D, u, work):
    """Advance y in place by n_steps fixed steps (method 0 = RK4, 1 = Euler).

    `work` is a (6, len(y)) scratch block. Returns -1 on success, or the index
    (0-based, within this call) of the first step after which y is not finite;
    y then holds the last finite state.
    """
    n = y.shape[0]
    N = pre_E.shape[0]
    k1 = work[0]
    k2 = work[1]
    k3 = work[2]
    k4 = work[3]
    tmp = work[4]
    nu = work[5][:N]
    s = work[5][N:]
    for step in range(n_steps):
        vector_field(y, k1, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                     I0, tau_E, tau_I, tau_D, u, nu, s)
        if method == 1:
            for j in range(n):
                tmp[j] = y[j] + dt * k1[j]
        else:
            half = 0.5 * dt
            for j in range(n):
                tmp[j] = y[j] + half * k1[j]
            vector_field(tmp, k2, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                         I0, tau_E, tau_I, tau_D, u, nu, s)
            for j in range(n):
                tmp[j] = y[j] + half * k2[j]
            vector_field(tmp, k3, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                         I0, tau_E, tau_I, tau_D, u, nu, s)
            for j in range(n):
                tmp[j] = y[j] + dt * k3[j]
            vector_field(tmp, k4, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE, g_II,
                         I0, tau_E, tau_I, tau_D, u, nu, s)
            sixth = dt / 6.0
            for j in range(n):
                tmp[j] = y[j] + sixth * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
        if not _all_finite(tmp):
            return step
        y[:] = tmp
    return -1


METHOD_CODES = {"rk4": 0, "euler": 1}


def kernel_args(params, net):
    """The scalar/array argument tuple shared by vector_field and advance (after y)."""
    return (net.pre_E, net.pre_I, params.N_E, params.transfer_code, params.coupling,
            params.g_EE, params.g_EI, params.g_IE, params.g_II, params.I0,
            params.tau_E, params.tau_I, params.tau_D, params.u)


def network_vector_field(params, net, y) -> np.ndarray:
    """F(y) for one network, allocating its own scratch (convenience for analysis/tests)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    dy = np.empty_like(y)
    nu = np.empty(params.N)
    s = np.empty(params.N_E)
    vector_field(y, dy, *kernel_args(params, net), nu, s)
    return dy


def make_work(params) -> np.ndarray:
    return np.zeros((6, params.dim))
