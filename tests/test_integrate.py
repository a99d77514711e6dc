"""The integrator against exact solutions and an independent dense numpy vector field."""
import numpy as np
import pytest

from stdnet.kernels.cpu import METHOD_CODES, advance, kernel_args, make_work, network_vector_field
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.model.transfer import phi


def _run(params, net, y0, dt, n, method="rk4"):
    y = np.array(y0, dtype=float)
    assert advance(y, n, METHOD_CODES[method], dt, *kernel_args(params, net), make_work(params)) == -1
    return y


def test_vector_field_matches_dense_numpy_reference():
    p = ModelParams(N=120, J0=1.3, I0=0.2)
    net = build_network(p, 5)
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0, 1, p.N), rng.uniform(0.1, 1, p.N_E)])
    A = net.adjacency().toarray()
    h, x = y[: p.N], y[p.N:]
    nu = phi("softplus", h)
    s = nu.copy()
    s[: p.N_E] *= x
    Jc = p.J0 / np.sqrt(p.K)
    dh = np.empty(p.N)
    E, I = slice(0, p.N_E), slice(p.N_E, p.N)
    dh[E] = -h[E] + p.I0 + Jc * (p.g_EE * A[E, E] @ s[E] - p.g_EI * A[E, I] @ nu[I])
    dh[I] = -h[I] + p.I0 + Jc * (p.g_IE * A[I, E] @ nu[E] - p.g_II * A[I, I] @ nu[I])
    dx = (1 - x) / p.tau_D - p.u * x * nu[E]
    assert np.allclose(network_vector_field(p, net, y), np.concatenate([dh, dx]),
                       rtol=1e-12, atol=1e-12)


def test_efficacy_relaxes_exactly_when_rates_vanish():
    """relu with h < 0 gives nu = 0: x(t) = 1 - (1 - x0) exp(-t / tau_D), h stays put."""
    p = ModelParams(N=100, J0=0.0, I0=-2.0, transfer="relu", tau_D=7.0)
    net = build_network(p, 1)
    x0 = np.linspace(0.05, 0.95, p.N_E)
    y0 = np.concatenate([np.full(p.N, -2.0), x0])
    dt, n = 0.05, 400
    y = _run(p, net, y0, dt, n)
    # on a linear ODE one RK4 step multiplies the deviation by the degree-4 Taylor
    # polynomial of exp(z), z = -dt/tau_D: the discrete solution is known exactly
    z = -dt / p.tau_D
    R = 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24
    assert np.max(np.abs(y[p.N:] - (1 - (1 - x0) * R**n))) < 1e-14
    # and it is within the global RK4 error n (dt/tau_D)^5 / 120 of the flow
    exact = 1 - (1 - x0) * np.exp(-n * dt / p.tau_D)
    assert np.max(np.abs(y[p.N:] - exact)) < n * (dt / p.tau_D) ** 5 / 120
    assert np.all(y[: p.N] == -2.0)


@pytest.mark.parametrize("method,order", [("rk4", 4), ("euler", 1)])
def test_linear_unit_converges_with_the_method_order(method, order):
    """J0 = 0: tau dh/dt = -h + I0 exactly solvable; halving dt divides the error by 2^order."""
    p = ModelParams(N=50, J0=0.0, I0=0.7, tau_E=2.0, tau_I=0.5)
    net = build_network(p, 1)
    h0 = np.linspace(-1, 2, p.N)
    y0 = np.concatenate([h0, np.ones(p.N_E)])
    T = 2.0
    tau = np.where(np.arange(p.N) < p.N_E, p.tau_E, p.tau_I)
    exact = p.I0 + (h0 - p.I0) * np.exp(-T / tau)
    errs = []
    for dt in (0.1, 0.05, 0.025):
        y = _run(p, net, y0, dt, int(round(T / dt)), method)
        errs.append(np.max(np.abs(y[: p.N] - exact)))
    for a, b in zip(errs, errs[1:]):
        assert a / b == pytest.approx(2.0**order, rel=0.15)


def test_nonfinite_state_reports_the_step():
    p = ModelParams(N=200, J0=50.0)
    net = build_network(p, 1)
    y = np.concatenate([np.full(p.N, 1.0), np.full(p.N_E, 0.5)])
    y[0] = 300.0
    bad = advance(y, 1000, 1, 5.0, *kernel_args(p, net), make_work(p))
    assert 0 <= bad < 1000
    assert np.all(np.isfinite(y))  # the last finite state is kept
