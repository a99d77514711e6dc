"""ROS2-W (stdnet.stiff_step): the Woodbury solve, its order, stability where RK4 fails, and
fixed points. Sizes are small enough for one core (the whole file well under a minute)."""
import numpy as np
import pytest

from stdnet import stiff_step as ss
from stdnet.integrate import METHOD_CODES, kernel_args, make_work
from stdnet.integrate import advance as rk_advance
from stdnet.meanfield import homogeneous_fixed_point
from stdnet.network import build_network
from stdnet.params import ModelParams
from stdnet.preflight import max_stable_dt
from stdnet.transfer import phi


def _kicked(p, sd=0.5, seed=0):
    y = homogeneous_fixed_point(p).state(p)
    y[: p.N] += np.random.default_rng(seed).normal(0.0, sd, p.N)
    return y


def _rk4(p, net, y0, dt, n):
    y = y0.copy()
    assert rk_advance(y, n, METHOD_CODES["rk4"], dt, *kernel_args(p, net), make_work(p)) == -1
    return y


def _ros2w(p, net, y0, dt, n):
    y = y0.copy()
    assert ss.advance(y, n, ss.METHOD_CODE, dt, *kernel_args(p, net), ss.make_work(p)) == -1
    return y


def test_woodbury_solve_matches_dense_matrix():
    """(I - gamma dt W) k = r solved in O(N) agrees with the dense matrix (step_matrix) to
    1e-12, at a random state (N = 200, J0 = 1.5, dt = 0.3)."""
    p = ModelParams(N=200, J0=1.5)
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(0, 1, p.N), rng.uniform(0.1, 1, p.N_E)])
    dt = 0.3
    N, N_E, gdt = p.N, p.N_E, ss.GAMMA * dt
    dp, wnu = np.empty(N), np.empty(N_E)
    lo, bx, Minv = np.empty(N_E), np.empty(N_E), np.empty((2, 3))
    ss._local_factors(y, N, N_E, p.transfer_code, gdt, p.tau_D, p.u, dp, wnu, lo, bx)
    Jc = p.coupling
    bE, bI = 1 + gdt / p.tau_E, 1 + gdt / p.tau_I
    ss._small_system(y, N, N_E, gdt, Jc * p.K_E * p.g_EE, Jc * p.K_I * p.g_EI,
                     Jc * p.K_E * p.g_IE, Jc * p.K_I * p.g_II, bE, bI, dp, wnu, lo, bx, Minv)
    r = rng.normal(size=p.dim)
    k = np.empty_like(r)
    ss._solve(r, k, y, N, N_E, bE, bI, dp, wnu, lo, bx, Minv)
    assert np.abs(ss.step_matrix(p, y, dt) @ k - r).max() < 1e-12


def test_second_order_convergence():
    """Error at T = 2 tau (max norm of the state; N = 400, J0 = 1.5, chaotic, kicked by
    sd 0.5) against RK4 at dt = 0.0025 for dt = 0.1, 0.05, 0.025. Measured ratios 3.39 and
    3.67 (order 1.76 and 1.87; 3.82, order 1.94, for the next halving to 0.0125: tending to
    2). Asserted: each halving divides the error by 3 to 5 (order 1.6-2.3), and the error at
    dt = 0.025 is < 0.02 (measured 0.0125): a first-order method (ratio 2) or a third-order
    one (8) fails."""
    p = ModelParams(N=400, J0=1.5)
    net = build_network(p, 1)
    y0 = _kicked(p)
    T = 2.0
    ref = _rk4(p, net, y0, 0.0025, round(T / 0.0025))
    err = [np.abs(_ros2w(p, net, y0, dt, round(T / dt)) - ref).max()
           for dt in (0.1, 0.05, 0.025)]
    ratios = [err[0] / err[1], err[1] / err[2]]
    assert err[2] < 0.02
    assert all(3.0 < r < 5.0 for r in ratios), (err, ratios)


def test_stable_where_rk4_fails():
    """N = 8000, J0 = 2 (stiff homogeneous eigenvalue about -33), dt = 0.2 = 2.4x RK4's
    max_stable_dt (0.083), 2 tau (10 steps) from the kicked fixed point, against RK4 at
    dt = 0.025. RK4 amplifies the homogeneous mode ~50x per step until softplus saturates
    it: it stops non-finite or ends far off (asserted: state RMS error > 2; measured 6.1,
    the mean inhibitory input at -14 instead of -0.9). ROS2-W: state RMS error < 0.6
    (measured 0.40, while the state itself moved by RMS 1.8: J0 = 2 is strongly chaotic)
    and population-mean E rate within 4% (measured 1.3%); then bounded (|h| < 100) for 10
    tau more."""
    p = ModelParams(N=8000, J0=2.0)
    dt, n = 0.2, 10
    assert 2.3 * max_stable_dt(p) < dt < 2.5 * max_stable_dt(p)
    net = build_network(p, 1)
    y0 = _kicked(p)
    ref = _rk4(p, net, y0, 0.025, round(n * dt / 0.025))

    def rms(y):
        return np.sqrt(np.mean((y[: p.N] - ref[: p.N]) ** 2))

    y = y0.copy()
    r = rk_advance(y, n, METHOD_CODES["rk4"], dt, *kernel_args(p, net), make_work(p))
    assert r >= 0 or rms(y) > 2.0, rms(y)
    z = _ros2w(p, net, y0, dt, n)
    nu, nu_ref = phi(p.transfer, z[: p.N_E]).mean(), phi(p.transfer, ref[: p.N_E]).mean()
    assert rms(z) < 0.6, rms(z)
    assert abs(nu - nu_ref) < 0.04 * nu_ref, (nu, nu_ref)
    assert ss.advance(z, round(10 / dt), ss.METHOD_CODE, dt, *kernel_args(p, net),
                      ss.make_work(p)) == -1
    assert np.abs(z[: p.N]).max() < 100.0


@pytest.mark.parametrize("J0", [0.7, 2.0])
def test_homogeneous_fixed_point_is_fixed(J0):
    """The homogeneous fixed point (stable at J0 = 0.7, unstable at J0 = 2) stays put to
    round-off: max change < 1e-13 after 5 steps of dt = 0.5 (N = 1000; measured 2e-16 and
    4e-16). A step that added
    anything at F = 0 (a wrong constant, a solve of 0 that is not 0) fails."""
    p = ModelParams(N=1000, J0=J0)
    net = build_network(p, 2)
    y0 = homogeneous_fixed_point(p).state(p)
    y = _ros2w(p, net, y0, 0.5, 5)
    assert np.abs(y - y0).max() < 1e-13


def test_returns_the_step_that_diverged():
    """integrate.advance's contract: the index of the first non-finite step, y left at the
    last finite state."""
    p = ModelParams(N=200, J0=1.0)
    net = build_network(p, 1)
    y = homogeneous_fixed_point(p).state(p)
    y[0] = 1e200
    y0 = y.copy()
    r = ss.advance(y, 3, ss.METHOD_CODE, 0.1, *kernel_args(p, net), ss.make_work(p))
    assert r == 0
    assert np.array_equal(y, y0)
