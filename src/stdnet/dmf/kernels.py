"""Numba kernels of the DMF iteration (stdnet.dmf.solver): one unit per sampled input path.

Each row of `fluct` is one input path h(t) - mu of a population; the kernels return
the rate nu = phi(h) and the depressed output x nu along it, or their averages with
the exact derivatives with respect to mu (for the Newton solve of the mean equations).
"""
from __future__ import annotations

import math

from numba import njit

from stdnet.model.transfer import SOFTPLUS, dphi_scalar, phi_scalar


@njit(cache=True)
def unit_traces(fluct, mu, code, u, tau_D, dt, nu_out, s_out):
    """nu = phi(mu + fluct) and s = x nu along each path (row) of `fluct`.

    x follows dx/dt = (1 - x)/tau_D - u x nu, linear in x, so each step is the
    exact exponential update with nu averaged over the step; x starts at its
    quasi-static value (callers discard a burn-in). u = 0 gives x = 1.
    """
    M, n = fluct.shape
    inv_D = 1.0 / tau_D
    for m in range(M):
        nu_prev = phi_scalar(code, mu + fluct[m, 0])
        x = 1.0 / (1.0 + u * tau_D * nu_prev)
        nu_out[m, 0] = nu_prev
        s_out[m, 0] = x * nu_prev
        for t in range(1, n):
            nu = phi_scalar(code, mu + fluct[m, t])
            a = inv_D + u * 0.5 * (nu + nu_prev)
            x_inf = inv_D / a
            x = x_inf + (x - x_inf) * math.exp(-a * dt)
            nu_out[m, t] = nu
            s_out[m, t] = x * nu
            nu_prev = nu


@njit(cache=True, inline="always")
def _phi_dphi(code, h):
    """phi and phi' together (softplus shares one exponential)."""
    if code == SOFTPLUS:
        e = math.exp(-abs(h))
        if h > 0.0:
            return h + math.log1p(e), 1.0 / (1.0 + e)
        return math.log1p(e), e / (1.0 + e)
    return phi_scalar(code, h), dphi_scalar(code, h)


@njit(cache=True)
def unit_means(fluct, mu, code, u, tau_D, dt, n_burn):
    """Averages over paths and post-burn-in time of nu and x nu, with their
    exact derivatives with respect to mu (the sensitivity dx/dmu is carried
    through the same discrete update as x)."""
    M, n = fluct.shape
    inv_D = 1.0 / tau_D
    m_nu = 0.0
    m_s = 0.0
    d_nu = 0.0
    d_s = 0.0
    if u == 0.0:  # no depression: x = 1
        for m in range(M):
            for t in range(n_burn, n):
                nu, dp = _phi_dphi(code, mu + fluct[m, t])
                m_nu += nu
                d_nu += dp
        cnt = M * (n - n_burn)
        return m_nu / cnt, m_nu / cnt, d_nu / cnt, d_nu / cnt
    for m in range(M):
        nu_prev, dp_prev = _phi_dphi(code, mu + fluct[m, 0])
        x = 1.0 / (1.0 + u * tau_D * nu_prev)
        y = -u * tau_D * dp_prev * x * x  # dx/dmu
        for t in range(1, n):
            nu, dp = _phi_dphi(code, mu + fluct[m, t])
            a = inv_D + u * 0.5 * (nu + nu_prev)
            da = u * 0.5 * (dp + dp_prev)
            x_inf = inv_D / a
            dx_inf = -inv_D * da / (a * a)
            e = math.exp(-a * dt)
            de = -dt * da * e
            y = dx_inf + (y - dx_inf) * e + (x - x_inf) * de
            x = x_inf + (x - x_inf) * e
            if t >= n_burn:
                m_nu += nu
                m_s += x * nu
                d_nu += dp
                d_s += y * nu + x * dp
            nu_prev = nu
            dp_prev = dp
    cnt = M * (n - n_burn)
    return m_nu / cnt, m_s / cnt, d_nu / cnt, d_s / cnt
