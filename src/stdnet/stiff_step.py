"""ROS2-W: a linearly implicit step that takes the stiff homogeneous mode implicitly.

Why: explicit RK4's largest stable dt is set by one mode, the balanced population-mean
(homogeneous) mode, whose eigenvalue grows like -sqrt(K) J0 (docs/model.md §3.1): RK4
needs dt ~ 1/(sqrt(K) J0) although that mode is strongly damped and carries none of the
studied dynamics. The rest of the spectrum (the random bulk, the leak, the slow
depression cluster) does not grow with N.

The method is the two-stage, order-2 Rosenbrock W-method ROS2 (Verwer, Spee, Blom and
Hundsdorfer 1999), gamma = 1 + 1/sqrt(2):

    (I - gamma dt W) k1 = F(y_n)
    (I - gamma dt W) k2 = F(y_n + dt k1) - 2 k1
    y_{n+1}            = y_n + dt (3/2 k1 + 1/2 k2)

Its order is 2 for ANY matrix W (a W-method), so W need not be the Jacobian. With W = J
its stability function (1 + (1 - 2 gamma) z) / (1 - gamma z)^2 is L-stable. We take for W
the part of the Jacobian that makes the homogeneous mode stiff, the MEAN coupling: every
row of block (a, b) has exactly K_b of the N_b presynaptic columns, and replacing the 0/1
pattern by its mean K_b / N_b gives, at the state y_n (frozen for the step),

    W = D + U C V^T

- D: per neuron, the leak -1/tau_a on h, and for E neuron j the 2x2 block of its own
  efficacy: dx'/dh = -u x phi'(h), dx'/dx = -1/tau_D - u nu (lower triangular).
- V^T (3 x dim): the perturbations of three population means, m1 = <x phi' dh + nu dx>_E
  (the depressed E signal), m2 = <phi' dh>_E (the E rate), m3 = <phi' dh>_I (the I rate).
- U (dim x 2): the indicators of the h of E rows and of I rows; C (2 x 3) the couplings
  (J0/sqrt(K)) K_b g_ab / tau_a of those means.

At the homogeneous fixed point W equals the Jacobian on the (invariant) block-uniform
subspace, so the homogeneous modes are integrated by the L-stable exact-Jacobian ROS2 at
any dt; the zero-mean rest sees W = D and is treated explicitly (its spectrum does not
grow with N). (I - gamma dt W) k = r is solved by Sherman-Morrison-Woodbury,

    (B - U C' V^T)^{-1} = B^{-1} + B^{-1} U (I_2 - C' V^T B^{-1} U)^{-1} C' V^T B^{-1},

B = I - gamma dt D, C' = gamma dt C: a local 2x2 lower-triangular solve, three O(N)
reductions and a 2x2 system, O(N) per solve against O(N K) for one vector field.

Cost: 2 vector fields (2 passes over the synapses) per step, against RK4's 4.

Kernels take arrays and scalars only, and `advance` takes integrate.advance's arguments
(method code, dt, kernel_args, work). The gathers use integrate.row_sum (fixed summation
order); the reductions run serially in index order, so a step is bit-identical for any
thread count.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .integrate import _all_finite, _rates, _stage
from .transfer import dphi_scalar, phi_scalar

#: the method's name (as a RunParams.method would read) and its code in `advance`
METHOD = "ros2w"
METHOD_CODE = 2
GAMMA = 1.0 + 1.0 / math.sqrt(2.0)
#: rows of the scratch block (make_work)
WORK_ROWS = 7


@njit(cache=True, parallel=True)
def _local_factors(y, N, N_E, code, gdt, tau_D, u, dp, wnu, lo, bx):
    """The per-neuron parts of W at y: dp = phi'(h); for E neuron j, wnu_j = nu_j (the
    x-weight of the mean m1) and the block [[b_E, 0], [lo_j, bx_j]] of B = I - gdt D on
    (h_j, x_j): lo_j = gdt u x_j phi'_j, bx_j = 1 + gdt (1/tau_D + u nu_j)."""
    for j in prange(N):
        d = dphi_scalar(code, y[j])
        dp[j] = d
        if j < N_E:
            r = phi_scalar(code, y[j])
            wnu[j] = r
            lo[j] = gdt * u * y[N + j] * d
            bx[j] = 1.0 + gdt * (1.0 / tau_D + u * r)


@njit(cache=True)
def _small_system(y, N, N_E, gdt, cE1, cE3, cI2, cI3, bE, bI, dp, wnu, lo, bx, Minv):
    """Minv (2 x 3) = (I_2 - C' V^T B^{-1} U)^{-1} C' for the step's W (serial sums:
    a fixed order). C' = gdt [[cE1, 0, -cE3], [0, cI2, -cI3]]."""
    q11 = 0.0  # m1(B^{-1} e_E)
    q21 = 0.0  # m2(B^{-1} e_E)
    q32 = 0.0  # m3(B^{-1} e_I)
    for j in range(N_E):
        q11 += y[N + j] * dp[j] - wnu[j] * lo[j] / bx[j]
        q21 += dp[j]
    for i in range(N_E, N):
        q32 += dp[i]
    N_I = N - N_E
    q11 /= bE * N_E
    q21 /= bE * N_E
    q32 /= bI * N_I
    # C' (2x3), S = I - C' Q with Q = [[q11, 0], [q21, 0], [0, q32]]
    c00, c02, c11, c12 = gdt * cE1, -gdt * cE3, gdt * cI2, -gdt * cI3
    s00 = 1.0 - c00 * q11
    s01 = -c02 * q32
    s10 = -c11 * q21
    s11 = 1.0 - c12 * q32
    det = s00 * s11 - s01 * s10
    i00, i01, i10, i11 = s11 / det, -s01 / det, -s10 / det, s00 / det
    # Minv = S^{-1} C'
    Minv[0, 0] = i00 * c00
    Minv[0, 1] = i01 * c11
    Minv[0, 2] = i00 * c02 + i01 * c12
    Minv[1, 0] = i10 * c00
    Minv[1, 1] = i11 * c11
    Minv[1, 2] = i10 * c02 + i11 * c12


@njit(cache=True, parallel=True)
def _local_solve(r, out, N, N_E, bE, bI, lo, bx):
    """out = B^{-1} r (out may alias r)."""
    for i in prange(N):
        if i < N_E:
            ph = r[i] / bE
            out[i] = ph
            out[N + i] = (r[N + i] - lo[i] * ph) / bx[i]
        else:
            out[i] = r[i] / bI


@njit(cache=True, parallel=True)
def _low_rank_update(out, N, N_E, c0, c1, bE, bI, lo, bx):
    """out += B^{-1} U (c0, c1)."""
    dE = c0 / bE
    dI = c1 / bI
    for i in prange(N):
        if i < N_E:
            out[i] += dE
            out[N + i] -= lo[i] * dE / bx[i]
        else:
            out[i] += dI


@njit(cache=True)
def _solve(r, out, y, N, N_E, bE, bI, dp, wnu, lo, bx, Minv):
    """out = (I - gamma dt W)^{-1} r by Woodbury (out may alias r); y: the state of W."""
    _local_solve(r, out, N, N_E, bE, bI, lo, bx)
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    for j in range(N_E):  # V^T B^{-1} r, serial: a fixed order
        m1 += y[N + j] * dp[j] * out[j] + wnu[j] * out[N + j]
        m2 += dp[j] * out[j]
    for i in range(N_E, N):
        m3 += dp[i] * out[i]
    m1 /= N_E
    m2 /= N_E
    m3 /= N - N_E
    c0 = Minv[0, 0] * m1 + Minv[0, 1] * m2 + Minv[0, 2] * m3
    c1 = Minv[1, 0] * m1 + Minv[1, 1] * m2 + Minv[1, 2] * m3
    _low_rank_update(out, N, N_E, c0, c1, bE, bI, lo, bx)


@njit(cache=True, parallel=True)
def _combine(yn, k1, k2, out, c1, c2):
    """out = yn + c1 k1 + c2 k2."""
    for i in prange(yn.shape[0]):
        out[i] = yn[i] + c1 * k1[i] + c2 * k2[i]


@njit(cache=True)
def _in_degree(rows):
    """Columns per row of an index block, also when read packed (4 uint16 per uint64)."""
    return rows.shape[1] * 4 if rows.itemsize == 8 else rows.shape[1]


@njit(cache=True)
def advance(y, n_steps, method, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
            g_II, I0, tau_E, tau_I, tau_D, u, work):
    """Advance y in place by n_steps ROS2-W steps of size dt: integrate.advance's contract.

    `method` is accepted for a drop-in call and ignored (always ROS2-W). `work` is a
    (>= WORK_ROWS, len(y)) float64 block (make_work). Returns -1 on success, or the index
    (0-based, within this call) of the first step after which y is not finite; y then
    holds the last finite state.
    """
    N = pre_E.shape[0]
    yn = work[0]
    k1 = work[1]
    k2 = work[2]
    z = work[3]
    nu = work[4][:N]
    s = work[4][N:]
    dp = work[5][:N]
    wnu = work[5][N:]
    lo = work[6][:N_E]
    bx = work[6][N_E:2 * N_E]
    Minv = np.empty((2, 3))
    gdt = GAMMA * dt
    bE = 1.0 + gdt / tau_E
    bI = 1.0 + gdt / tau_I
    K_E = _in_degree(pre_E)
    K_I = _in_degree(pre_I)
    # the couplings of the population means (mean pattern K_b / N_b times N_b terms)
    cE1 = Jc * K_E * g_EE / tau_E
    cE3 = Jc * K_I * g_EI / tau_E
    cI2 = Jc * K_E * g_IE / tau_I
    cI3 = Jc * K_I * g_II / tau_I
    for step in range(n_steps):
        yn[:] = y
        _rates(yn, N, N_E, code, nu, s)
        _local_factors(yn, N, N_E, code, gdt, tau_D, u, dp, wnu, lo, bx)
        _small_system(yn, N, N_E, gdt, cE1, cE3, cI2, cI3, bE, bI, dp, wnu, lo, bx, Minv)
        # stage 1: k1 = (I - gamma dt W)^{-1} F(y_n)
        # F from integrate's own stage kernel (mode 0: acc = F(z)); its `out` goes to z,
        # which is free until _combine overwrites it
        _stage(yn, yn, z, k1, 0, 0.0, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II, I0,
               tau_E, tau_I, tau_D, u, nu, s)
        _solve(k1, k1, yn, N, N_E, bE, bI, dp, wnu, lo, bx, Minv)
        # stage 2: k2 = (I - gamma dt W)^{-1} (F(y_n + dt k1) - 2 k1)
        _combine(yn, k1, k1, z, dt, 0.0)
        _rates(z, N, N_E, code, nu, s)
        _stage(z, z, z, k2, 0, 0.0, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II, I0,
               tau_E, tau_I, tau_D, u, nu, s)
        k2 -= 2.0 * k1
        _solve(k2, k2, yn, N, N_E, bE, bI, dp, wnu, lo, bx, Minv)
        _combine(yn, k1, k2, z, 1.5 * dt, 0.5 * dt)
        if not _all_finite(z):
            return step
        y[:] = z
    return -1


def make_work(params, dtype=np.float64) -> np.ndarray:
    """Scratch for `advance` (float64 only: the Woodbury sums are done in float64)."""
    if np.dtype(dtype) != np.float64:
        raise ValueError(f"precision: invalid value {np.dtype(dtype).name!r} for {METHOD}; "
                         "allowed: float64")
    return np.zeros((WORK_ROWS, params.dim), dtype=np.float64)


def step_matrix(params, y, dt) -> np.ndarray:
    """The dense (I - gamma dt W) at state y (tests and small-N analysis only: O(dim^2))."""
    p = params
    N, N_E, n = p.N, p.N_E, p.dim
    from .transfer import dphi, phi

    h, x = y[:N], y[N:]
    d = dphi(p.transfer, h)
    nu = phi(p.transfer, h)
    Jc = p.coupling
    W = np.zeros((n, n))
    tau = np.where(np.arange(N) < N_E, p.tau_E, p.tau_I)
    W[np.arange(N), np.arange(N)] = -1.0 / tau
    E = np.arange(N_E)
    W[N + E, E] = -p.u * x * d[:N_E]
    W[N + E, N + E] = -1.0 / p.tau_D - p.u * nu[:N_E]
    v1 = np.zeros(n)
    v1[:N_E] = x * d[:N_E] / N_E
    v1[N:] = nu[:N_E] / N_E
    v2 = np.zeros(n)
    v2[:N_E] = d[:N_E] / N_E
    v3 = np.zeros(n)
    v3[N_E:N] = d[N_E:] / p.N_I
    W[:N_E] += Jc * (p.K_E * p.g_EE * v1 - p.K_I * p.g_EI * v3) / p.tau_E
    W[N_E:N] += Jc * (p.K_E * p.g_IE * v2 - p.K_I * p.g_II * v3) / p.tau_I
    return np.eye(n) - GAMMA * dt * W


# ---- stability (what preflight would use) ---------------------------------------------
def stability_function(z, w):
    """R(z, w) of ROS2 with W-eigenvalue w on a mode of J-eigenvalue z (both times dt)
    where W and J share that eigenvector: 1 + a z (2 - a + a z / 2), a = 1/(1 - gamma w).
    w = z: the exact-Jacobian, L-stable function (1 + (1 - 2 gamma) z) / (1 - gamma z)^2."""
    z = np.asarray(z, dtype=complex)
    a = 1.0 / (1.0 - GAMMA * np.asarray(w, dtype=complex))
    return 1.0 + a * z * (2.0 - a + 0.5 * a * z)


def max_stable_dt(params, fp=None) -> float:
    """The preflight.max_stable_dt of ROS2-W: the largest dt for which every homogeneous
    and leak mode (preflight._modes) is damped. W is exact on those modes at the homogeneous
    fixed point, so each sees the L-stable function R(z, z): no limit (inf) while they all
    lie in the left half-plane, as they do for the default constants (docs/model.md §3.1).
    The zero-mean bulk, treated explicitly, is not in this check (as for RK4): see
    bulk_spurious_growth."""
    from .preflight import _modes

    modes = _modes(params, fp)
    return math.inf if np.all(modes.real < 0) else 0.0


def bulk_spurious_growth(params, dt: float, fp=None, n_grid: int = 401) -> float:
    """Largest growth rate log|R(dt lam, -dt/tau_E)| / dt over the DECAYING modes lam
    (Re lam < 0) of the predicted bulk at the homogeneous fixed point (stdnet.bulk: where
    rho(V(lam)) >= 1), in the scalar picture where W acts on a zero-mean mode as the leak.
    <= 0: no decaying bulk mode is amplified; a small positive value is ROS2's O(dt^2)
    error near the imaginary axis (like any second-order explicit method, R is not
    contractive on the imaginary axis), not a blow-up."""
    import warnings

    from .bulk import bulk_indicator
    from .meanfield import homogeneous_fixed_point

    fp = homogeneous_fixed_point(params) if fp is None else fp
    re = np.linspace(-6.0, -1e-6, n_grid)
    im = np.linspace(0.0, 6.0, n_grid)
    lam = re[None, :] + 1j * im[:, None]
    with warnings.catch_warnings():  # the depression pole of the gain
        warnings.simplefilter("ignore", RuntimeWarning)
        inside = bulk_indicator(params, fp, lam) >= 1.0
    lam = lam[inside]
    if lam.size == 0:
        return -math.inf
    R = stability_function(dt * lam, -dt / params.tau_E)
    return float(np.log(np.abs(R)).max() / dt)
