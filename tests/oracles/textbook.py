"""Textbook tangent systems with known exponents, for validating stdnet.lyapunov.spectrum.

Each has the interface the QR algorithm uses for the network (`dim`, `m`, `dt`,
`advance(y, Q, n_steps)`), so the tests go through exactly the same code path:

- LinearSystem: dy/dt = A y stepped by RK4; its exponents are exactly
  log|R4(dt a_k)| / dt for the real eigenvalues a_k of A, with R4 the RK4
  stability polynomial (exact for the discrete map, -> a_k as dt -> 0).
- LorenzSystem: sigma = 10, rho = 28, beta = 8/3; lambda ~ (0.906, 0, -14.572),
  sum exactly -(sigma + 1 + beta) for the flow. RK4 with the exact variational
  equation of the RK4 map, as for the network.
- HenonMap: (x, y) -> (1 - a x^2 + y, b x), a = 1.4, b = 0.3 (dt = 1);
  lambda_1 ~ 0.419, lambda_1 + lambda_2 = log b exactly.
"""
from __future__ import annotations

import numpy as np
from numba import njit


def rk4_growth(z) -> np.ndarray:
    """The RK4 stability polynomial 1 + z + z^2/2 + z^3/6 + z^4/24."""
    z = np.asarray(z, dtype=complex)
    return 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24


@njit(cache=True)
def _linear_rk4(A, X, n_steps, dt):
    # the RK4 map of a linear flow is the matrix polynomial R4(dt A): same for y and Q
    for _ in range(n_steps):
        k1 = A @ X
        k2 = A @ (X + 0.5 * dt * k1)
        k3 = A @ (X + 0.5 * dt * k2)
        k4 = A @ (X + dt * k3)
        X[:, :] = X + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


class LinearSystem:
    """dy/dt = A y with RK4 steps of size dt (A: (dim, dim) float64)."""

    def __init__(self, A, m, dt):
        self.A = np.ascontiguousarray(A, dtype=np.float64)
        self.dim = self.A.shape[0]
        self.m, self.dt = int(m), float(dt)

    def advance(self, y, Q, n_steps):
        _linear_rk4(self.A, y.reshape(-1, 1), int(n_steps), self.dt)
        _linear_rk4(self.A, Q, int(n_steps), self.dt)

    def exact_exponents(self) -> np.ndarray:
        """Exponents of the RK4 map, descending (A must have real eigenvalues)."""
        ev = np.linalg.eigvals(self.A)
        lam = np.log(np.abs(rk4_growth(self.dt * ev))) / self.dt
        return np.sort(lam)[::-1][: self.m]


@njit(cache=True)
def _lorenz_field(y, sigma, rho, beta, out):
    out[0] = sigma * (y[1] - y[0])
    out[1] = y[0] * (rho - y[2]) - y[1]
    out[2] = y[0] * y[1] - beta * y[2]


@njit(cache=True)
def _lorenz_jac(y, sigma, rho, beta, V, out):
    # DF(y) V for the Lorenz field
    for k in range(V.shape[1]):
        out[0, k] = sigma * (V[1, k] - V[0, k])
        out[1, k] = (rho - y[2]) * V[0, k] - V[1, k] - y[0] * V[2, k]
        out[2, k] = y[1] * V[0, k] + y[0] * V[1, k] - beta * V[2, k]


@njit(cache=True)
def _lorenz_rk4(y, Q, n_steps, dt, sigma, rho, beta):
    """RK4 of the trajectory and the RK4 map's Jacobian on Q, stage by stage."""
    ks = np.empty((4, 3))
    Ks = np.empty((4, 3, Q.shape[1]))
    ys = np.empty(3)
    Vs = np.empty_like(Q)
    c = (0.0, 0.5, 0.5, 1.0)
    for _ in range(n_steps):
        for st in range(4):
            if st == 0:
                ys[:] = y
                Vs[:, :] = Q
            else:
                ys[:] = y + c[st] * dt * ks[st - 1]
                Vs[:, :] = Q + c[st] * dt * Ks[st - 1]
            _lorenz_field(ys, sigma, rho, beta, ks[st])
            _lorenz_jac(ys, sigma, rho, beta, Vs, Ks[st])
        y[:] = y + (dt / 6.0) * (ks[0] + 2.0 * ks[1] + 2.0 * ks[2] + ks[3])
        Q[:, :] = Q + (dt / 6.0) * (Ks[0] + 2.0 * Ks[1] + 2.0 * Ks[2] + Ks[3])


class LorenzSystem:
    """The Lorenz flow with RK4 (dim 3); exponents ~ (0.9056, 0, -14.5723)."""

    EXPONENTS = (0.9056, 0.0, -14.5723)  # Sprott, Chaos and Time-Series Analysis (2003)

    def __init__(self, m=3, dt=0.01, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
        self.dim, self.m, self.dt = 3, int(m), float(dt)
        self.sigma, self.rho, self.beta = float(sigma), float(rho), float(beta)

    def advance(self, y, Q, n_steps):
        _lorenz_rk4(y, Q, int(n_steps), self.dt, self.sigma, self.rho, self.beta)

    def divergence(self, y) -> float:
        return -(self.sigma + 1.0 + self.beta)


@njit(cache=True)
def _henon(y, Q, n_steps, a, b):
    for _ in range(n_steps):
        x = y[0]
        for k in range(Q.shape[1]):
            q0 = Q[0, k]
            Q[0, k] = -2.0 * a * x * q0 + Q[1, k]
            Q[1, k] = b * q0
        y[0] = 1.0 - a * x * x + y[1]
        y[1] = b * x


class HenonMap:
    """The Henon map (dt = 1 per iteration); lambda ~ (0.4192, -1.6232)."""

    EXPONENTS = (0.41922, -1.62319)

    def __init__(self, m=2, a=1.4, b=0.3):
        self.dim, self.m, self.dt = 2, int(m), 1.0
        self.a, self.b = float(a), float(b)

    def advance(self, y, Q, n_steps):
        _henon(y, Q, int(n_steps), self.a, self.b)
