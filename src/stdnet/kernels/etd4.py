"""ETD4: fourth-order exponential Runge-Kutta with the stiff homogeneous mode taken exactly.

Why: explicit RK4's largest stable dt is set by one mode, the balanced population-mean
(homogeneous) mode, whose eigenvalue grows like -sqrt(K) J0 (docs/model.md §3.1): RK4 needs
dt ~ 1/(sqrt(K) J0) at every N although that mode is strongly damped and carries none of
the dynamics we study. The rest of the spectrum (the random bulk, the leaks, the slow
depression cluster) does not grow with N.

The split. Per step, at the state y_n, the part of the Jacobian that makes the mode stiff
is the MEAN coupling: every row of block (a, b) has exactly K_b of the N_b presynaptic
columns, and replacing the 0/1 pattern by its mean K_b / N_b gives the rank-2 matrix

    L = U B,   B = C V^T   (2 x dim)

- V^T (3 x dim): the perturbations of three population means at y_n,
  m1 = <x phi' dh + nu dx>_E (the depressed E signal), m2 = <phi' dh>_E, m3 = <phi' dh>_I;
- C (2 x 3): the couplings (J0/sqrt(K)) K_ab g_ab / tau_a of those means;
- U (dim x 2): the indicators of the h of E rows and of I rows.

Heterogeneous networks (variable in-degrees, per-neuron u_j and tau_D,j; issue 25). K_ab
is the MEAN in-degree from b of the rows of a (`block_degrees`; exactly K_b for fixed
in-degree, where the kernels keep the integer K_b and their bits). u_j and tau_D,j never
enter L: they act on the efficacies, which the explicit part (kernels.cpu.rk_stage) takes.
Everything below holds for any frozen L (fixed points kept, order 4), so nothing else
changes; what L no longer holds is the part of the mean coupling proportional to
delta_ib = K_ib / K_ab - 1, a rank-3 term left to the explicit part. Its eigenvalues are
(J0/sqrt(K)) K_ab g_ab cov(phi'_i, delta_ib) / tau_a: they grow like sqrt(K) at a fixed
in-degree CV, but relative to the exact part they are r = <phi' delta_b>_a / <phi'>_a, the
phi'-weighted mean excess in-degree, and the split keeps RK4's region on the leaks while
r stays below ~0.8 (the split on the mean modes, workflow.preflight.degree_modes; the
stationary theory gives |r| <= 0.65 for in-degree CVs up to 0.8, N = 2000-32000, J0 =
0.5-2.5). Measured: the stable step at N = 2000 and 8000, Erdos-Renyi
and gamma in-degrees up to CV 0.2 (0.8 at N = 2000) is that of the paper's network or
larger (docs/performance.md, "ETD4 on heterogeneous networks").

The step integrates y' = L y + N(y), N(y) = F(y) - L y, with L frozen for the step, by
the ETDRK4 scheme of Cox & Matthews (J. Comput. Phys. 176, 2002), order 4 for any fixed
L. Its exponentials cost O(N): because L = U B has rank 2,

    phi_k(h L) v = v / k! + h U phi_{k+1}(h M) B v,    M = B U (2 x 2),

so every matrix function is that of a 2 x 2 matrix (phi_1 .. phi_4 from the exponential of
a 10 x 10 block matrix, `phi_blocks`) and applying it is three population means and one
shift of the h of E and of I rows. The stiff mode is then damped exactly at any dt; what
is left to N(y) (the leaks, the efficacies, the zero-mean bulk) sees RK4's weights
(h/6)(k1 + 2k2 + 2k3 + k4) and RK4's stability region, and nothing in it grows with N.

Fixed points are kept exactly (F(y*) = 0 gives N(y*) = -L y*, and every stage returns
y*) for ANY L, so the tangent step below, which freezes L like the trajectory, is the
exact derivative of the discrete map at a fixed point; elsewhere it integrates the
variational equation with the same fourth-order scheme (the map's derivative would add
the variation of L with y_n, an O(dt) change of a term that the exponent does not see
to the scheme's order).

Cost: RK4's 4 passes over the synapses per step, plus O(N) sweeps (about 9 population
means and 5 combinations of dim-vectors) and two 10 x 10 exponentials.

Kernels take arrays and scalars only. The means run serially in index order and every
other kernel elementwise, so a step is bit-identical for any thread count, and the
trajectory of `advance_fused` is bit-identical to `advance` (the fused stage's slot 0 is
kernels.cpu.rk_stage's slope).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from stdnet.kernels.cpu import all_finite, rk_rates, rk_stage
from stdnet.kernels.rows import n_rows
from stdnet.kernels.tangent_block import field_tangent
from stdnet.kernels.tangent_narrow import fused_rates, fused_stage
from stdnet.model.transfer import dphi_scalar, phi_scalar

#: the method's name (RunParams.method) and its code
METHOD = "etd4"
METHOD_CODE = 2
#: dim-vectors of scratch in `advance` (make_work)
WORK_ROWS = 8
#: (dim, m) blocks of scratch for the tangent columns (make_tangent_work)
TANGENT_ROWS = 6
#: Taylor terms of the scaled exponential: (1/2)^19 / 19! ~ 1e-23, far below rounding
_TAYLOR = 18


# ---- the 2 x 2 matrix functions ------------------------------------------------------
@njit(cache=True)
def _matmul(A, B, out):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            acc = 0.0
            for k in range(n):
                acc += A[i, k] * B[k, j]
            out[i, j] = acc


@njit(cache=True)
def _expm(A):
    """exp(A) of a small dense matrix: scaling to norm <= 1/2, Taylor, squaring."""
    n = A.shape[0]
    norm = 0.0
    for j in range(n):
        col = 0.0
        for i in range(n):
            col += abs(A[i, j])
        norm = max(norm, col)
    s = 0
    while norm > 0.5:
        norm *= 0.5
        s += 1
    X = A * (0.5 ** s)
    E = np.eye(n)
    term = np.eye(n)
    tmp = np.empty((n, n))
    for k in range(1, _TAYLOR + 1):
        _matmul(term, X, tmp)
        term[:, :] = tmp / k
        E += term
    for _ in range(s):
        _matmul(E, E, tmp)
        E[:, :] = tmp
    return E


@njit(cache=True)
def phi_blocks(A, out):
    """out[k] = phi_k(A), k = 0..4, for a small n x n matrix A (2 x 2 in the step; the
    preflight's stability check uses 1 x 1 and 3 x 3) (phi_0 = exp, phi_{k+1}(z) =
    (phi_k(z) - 1/k!) / z): the first block row of exp of the block matrix with A in the
    corner and identities on the superdiagonal (phi_k without divisions by A, so A may
    be singular)."""
    n = A.shape[0]
    Z = np.zeros((5 * n, 5 * n))
    Z[0:n, 0:n] = A
    for b in range(4):
        for i in range(n):
            Z[b * n + i, (b + 1) * n + i] = 1.0
    E = _expm(Z)
    for k in range(5):
        out[k, :, :] = E[0:n, k * n:(k + 1) * n]


# ---- the low-rank operator at y_n ----------------------------------------------------
@njit(cache=True, parallel=True)
def _factors(y, N, N_E, code, dp, wnu):
    """dp = phi'(h) (all neurons) and wnu = nu (E neurons) at the step's state."""
    for j in prange(N):
        dp[j] = dphi_scalar(code, y[j])
        if j < N_E:
            wnu[j] = phi_scalar(code, y[j])


@njit(cache=True)
def _project(X, y, N, N_E, dp, wnu, C, out):
    """out[q] = B X[:, q] (two numbers per column: the coupling of the three means into
    the E and the I rows). Serial sums: a fixed order, any thread count."""
    m = X.shape[1]
    N_I = N - N_E
    for q in range(m):
        m1 = 0.0
        m2 = 0.0
        m3 = 0.0
        for j in range(N_E):
            v = dp[j] * X[j, q]
            m1 += y[N + j] * v + wnu[j] * X[N + j, q]
            m2 += v
        for i in range(N_E, N):
            m3 += dp[i] * X[i, q]
        m1 /= N_E
        m2 /= N_E
        m3 /= N_I
        out[q, 0] = C[0, 0] * m1 + C[0, 2] * m3
        out[q, 1] = C[1, 1] * m2 + C[1, 2] * m3


@njit(cache=True)
def _small_matrix(y, N, N_E, dp, C, M):
    """M = B U: how the two row shifts move the three means, then couple back."""
    xd = 0.0
    dE = 0.0
    dI = 0.0
    for j in range(N_E):
        xd += y[N + j] * dp[j]
        dE += dp[j]
    for i in range(N_E, N):
        dI += dp[i]
    xd /= N_E
    dE /= N_E
    dI /= N - N_E
    M[0, 0] = C[0, 0] * xd
    M[0, 1] = C[0, 2] * dI
    M[1, 0] = C[1, 1] * dE
    M[1, 1] = C[1, 2] * dI


@njit(cache=True, parallel=True)
def _combine(out, a0, X0, a1, X1, a2, X2, alpha, N, N_E):
    """out = a0 X0 + a1 X1 + a2 X2 + U alpha, column by column (alpha[q] = the shifts of
    the h of E rows and of I rows). Elementwise: out may alias any X."""
    n, m = out.shape
    for i in prange(n):
        for q in range(m):
            v = a0 * X0[i, q] + a1 * X1[i, q] + a2 * X2[i, q]
            if i < N_E:
                v += alpha[q, 0]
            elif i < N:
                v += alpha[q, 1]
            out[i, q] = v


@njit(cache=True)
def _mv(A, v, w):
    """A (2x2) v + w for 2-vectors: one row shift."""
    return A[0, 0] * v[0] + A[0, 1] * v[1] + w[0], A[1, 0] * v[0] + A[1, 1] * v[1] + w[1]


# ---- the ETDRK4 stages on one set of columns ------------------------------------------
# Each set (the trajectory as a (dim, 1) view, or the tangent block) holds u (the step's
# start), KU (F at u), A (stage a), Z (stage b, then c, then the result), K (F at the
# current stage), ACC (KU + 2 Ka + 2 Kb + Kc), and per column the 2-vectors beta = B X
# of u, a, b, c and gamma = B N(X) of them (BE, G[0..3]); BT is scratch for B of a slope.
# S: the step's 2 x 2 coefficients (see _coefficients).


@njit(cache=True)
def _coefficients(M, h, S):
    """The 2 x 2 matrices of a step: S[0] = (h/2)(phi1(hM/2) - I), S[1] = (h/2) phi1(hM/2),
    S[2] = (h^2/4) phi2(hM/2), S[3] = h phi1(hM), S[4..6] = h^2 (phi2 - 3 phi3 + 4 phi4,
    phi3 - 2 phi4, -phi3 + 4 phi4)(hM), and S[7] = M."""
    P = np.empty((5, 2, 2))
    phi_blocks(0.5 * h * M, P)
    S[1] = 0.5 * h * P[1]
    S[0] = S[1] - 0.5 * h * np.eye(2)
    S[2] = 0.25 * h * h * P[2]
    phi_blocks(h * M, P)
    S[3] = h * P[1]
    S[4] = h * h * (P[2] - 3.0 * P[3] + 4.0 * P[4])
    S[5] = h * h * (P[3] - 2.0 * P[4])
    S[6] = h * h * (-P[3] + 4.0 * P[4])
    S[7] = M


@njit(cache=True)
def _beta_gamma(X, KX, y, N, N_E, dp, wnu, C, M, beta, gamma, BT):
    """beta = B X, gamma = B N(X) = B KX - M beta, per column."""
    _project(X, y, N, N_E, dp, wnu, C, beta)
    _project(KX, y, N, N_E, dp, wnu, C, BT)
    for q in range(beta.shape[0]):
        gamma[q, 0] = BT[q, 0] - (M[0, 0] * beta[q, 0] + M[0, 1] * beta[q, 1])
        gamma[q, 1] = BT[q, 1] - (M[1, 0] * beta[q, 0] + M[1, 1] * beta[q, 1])


@njit(cache=True)
def _after_u(h, u, KU, A, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha):
    """From KU = F(u): a = u + (h/2) KU + U alpha_a; ACC = KU."""
    _beta_gamma(u, KU, y, N, N_E, dp, wnu, C, S[7], BE[0], G[0], BT)
    for q in range(alpha.shape[0]):
        alpha[q, 0], alpha[q, 1] = _mv(S[2], G[0, q], _mv(S[0], BE[0, q], (0.0, 0.0)))
    _combine(A, 1.0, u, 0.5 * h, KU, 0.0, KU, alpha, N, N_E)
    alpha[:, :] = 0.0
    _combine(ACC, 1.0, KU, 0.0, KU, 0.0, KU, alpha, N, N_E)


@njit(cache=True)
def _after_a(h, u, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha):
    """From K = F(a): b = u + (h/2) K + U alpha_b; ACC += 2 K."""
    _beta_gamma(A, K, y, N, N_E, dp, wnu, C, S[7], BE[1], G[1], BT)
    for q in range(alpha.shape[0]):
        w = _mv(S[1], BE[0, q], (-0.5 * h * BE[1, q, 0], -0.5 * h * BE[1, q, 1]))
        alpha[q, 0], alpha[q, 1] = _mv(S[2], G[1, q], w)
    _combine(Z, 1.0, u, 0.5 * h, K, 0.0, K, alpha, N, N_E)
    alpha[:, :] = 0.0
    _combine(ACC, 1.0, ACC, 2.0, K, 0.0, K, alpha, N, N_E)


@njit(cache=True)
def _after_b(h, KU, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha):
    """From K = F(b) (b in Z): c = a + h K - (h/2) KU + U alpha_c; ACC += 2 K."""
    _beta_gamma(Z, K, y, N, N_E, dp, wnu, C, S[7], BE[2], G[2], BT)
    for q in range(alpha.shape[0]):
        d0 = 2.0 * G[2, q, 0] - G[0, q, 0]
        d1 = 2.0 * G[2, q, 1] - G[0, q, 1]
        w = _mv(S[1], BE[1, q], (-0.5 * h * (2.0 * BE[2, q, 0] - BE[0, q, 0]),
                                 -0.5 * h * (2.0 * BE[2, q, 1] - BE[0, q, 1])))
        alpha[q, 0] = S[2, 0, 0] * d0 + S[2, 0, 1] * d1 + w[0]
        alpha[q, 1] = S[2, 1, 0] * d0 + S[2, 1, 1] * d1 + w[1]
    _combine(Z, 1.0, A, h, K, -0.5 * h, KU, alpha, N, N_E)
    alpha[:, :] = 0.0
    _combine(ACC, 1.0, ACC, 2.0, K, 0.0, K, alpha, N, N_E)


@njit(cache=True)
def _after_c(h, u, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha):
    """From K = F(c) (c in Z): the result u + (h/6)(ACC + K) + U alpha into Z."""
    bc, gc = BE[3], G[3]
    _beta_gamma(Z, K, y, N, N_E, dp, wnu, C, S[7], bc, gc, BT)
    sixth = h / 6.0
    for q in range(alpha.shape[0]):
        w0 = -sixth * (BE[0, q, 0] + 2.0 * BE[1, q, 0] + 2.0 * BE[2, q, 0] + bc[q, 0])
        w1 = -sixth * (BE[0, q, 1] + 2.0 * BE[1, q, 1] + 2.0 * BE[2, q, 1] + bc[q, 1])
        w = _mv(S[3], BE[0, q], (w0, w1))
        w = _mv(S[4], G[0, q], w)
        g = (G[1, q, 0] + G[2, q, 0], G[1, q, 1] + G[2, q, 1])
        w = _mv(S[5], (2.0 * g[0], 2.0 * g[1]), w)
        alpha[q, 0], alpha[q, 1] = _mv(S[6], gc[q], w)
    _combine(Z, 1.0, u, sixth, ACC, sixth, K, alpha, N, N_E)


@njit(cache=True)
def _after(stage, h, u, KU, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha):
    """The combinations after the slope of `stage` (0: u, 1: a, 2: b, 3: c) on one set."""
    if stage == 0:
        _after_u(h, u, KU, A, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha)
    elif stage == 1:
        _after_a(h, u, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha)
    elif stage == 2:
        _after_b(h, KU, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha)
    else:
        _after_c(h, u, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT, alpha)


@njit(cache=True)
def _set_scratch(m):
    """The per-column 2-vectors of one set of m columns: BE, G (4, m, 2: stages u, a, b, c),
    BT, alpha (m, 2)."""
    return (np.empty((4, m, 2)), np.empty((4, m, 2)), np.empty((m, 2)), np.empty((m, 2)))


# ---- the step ---------------------------------------------------------------------
@njit(cache=True)
def _operator(y, N, N_E, code, Jc, K_EE, K_EI, K_IE, K_II, g_EE, g_EI, g_IE, g_II, tau_E,
              tau_I, h, dp, wnu, C, S):
    """L at y: phi' and rates (dp, wnu), the couplings C and the step's coefficients S.
    K_ab: the (mean) in-degree from population b of the rows of population a."""
    _factors(y, N, N_E, code, dp, wnu)
    C[0, 0] = Jc * K_EE * g_EE / tau_E
    C[0, 1] = 0.0
    C[0, 2] = -Jc * K_EI * g_EI / tau_E
    C[1, 0] = 0.0
    C[1, 1] = Jc * K_IE * g_IE / tau_I
    C[1, 2] = -Jc * K_II * g_II / tau_I
    M = np.empty((2, 2))
    _small_matrix(y, N, N_E, dp, C, M)
    _coefficients(M, h, S)


def block_degrees(rows, N_E):
    """(mean in-degree of the E rows, of the I rows) from one population's rows: the K_b
    of L's couplings. An (N, K) block (also read packed, 4 uint16 per uint64) gives the
    integer K twice; variable rows (flat, ptr) their means over each population's rows."""
    if isinstance(rows, tuple):
        ptr = rows[1]
        N = ptr.shape[0] - 1
        return (ptr[N_E] - ptr[0]) / N_E, (ptr[N] - ptr[N_E]) / (N - N_E)
    K = rows.shape[1] * 4 if rows.itemsize == 8 else rows.shape[1]
    return K, K


# Compile-time dispatch as in kernels.rows: the fixed-in-degree kernels keep the integer K
# they had before variable rows existed (the same machine code, the same bits).
@overload(block_degrees)
def _block_degrees(rows, N_E):
    if isinstance(rows, types.BaseTuple):
        def mean_rows(rows, N_E):
            ptr = rows[1]
            N = ptr.shape[0] - 1
            return (ptr[N_E] - ptr[0]) / N_E, (ptr[N] - ptr[N_E]) / (N - N_E)
        return mean_rows

    def fixed(rows, N_E):
        K = rows.shape[1] * 4 if rows.itemsize == 8 else rows.shape[1]
        return K, K
    return fixed


@njit(cache=True)
def _views(y, work, n):
    """The trajectory's set as (n, 1) columns: u = y, KU = row 0, A = row 1, K = row 3,
    Z = row 2, ACC = row 4 (the tangent set keeps the same order in twork)."""
    return (y.reshape((n, 1)), work[0].reshape((n, 1)), work[1].reshape((n, 1)),
            work[3].reshape((n, 1)), work[2].reshape((n, 1)), work[4].reshape((n, 1)))


@njit(cache=True)
def _stage_state(stage, y, work):
    """(state, slope row) of a stage in `work`: u is y itself, a is row 1, b and c row 2;
    the slope of u goes to row 0 (kept for c), the others to row 3."""
    if stage == 0:
        return y, work[0]
    return (work[1] if stage == 1 else work[2]), work[3]


@njit(cache=True)
def advance(y, n_steps, method, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
            g_II, I0, tau_E, tau_I, tau_D, u, work):
    """Advance y in place by n_steps ETD4 steps: kernels.cpu.advance's contract.

    `method` is accepted for a drop-in call and ignored. `work` is a (>= WORK_ROWS,
    len(y)) float64 block (make_work). Returns -1 on success, or the index (0-based,
    within this call) of the first step after which y is not finite; y then holds the
    last finite state.
    """
    N = n_rows(pre_E)
    n = y.shape[0]
    # the trajectory as one column: u, KU, A, K, Z, ACC (rows of _stage_state)
    u0, KU, A, K, Z, ACC = _views(y, work, n)
    nu, s = work[6][:N], work[6][N:]
    dp, wnu = work[7][:N], work[7][N:]
    K_EE, K_IE = block_degrees(pre_E, N_E)
    K_EI, K_II = block_degrees(pre_I, N_E)
    C = np.empty((2, 3))
    S = np.empty((8, 2, 2))
    BE, G, BT, alpha = _set_scratch(1)
    for step in range(n_steps):
        _operator(y, N, N_E, code, Jc, K_EE, K_EI, K_IE, K_II, g_EE, g_EI, g_IE, g_II,
                  tau_E, tau_I, dt, dp, wnu, C, S)
        for stage in range(4):
            z, kv = _stage_state(stage, y, work)
            rk_rates(z, N, N_E, code, nu, s)
            rk_stage(z, z, work[5], kv, 0, 0.0, pre_E, pre_I, N_E, Jc, g_EE, g_EI, g_IE, g_II,
                   I0, tau_E, tau_I, tau_D, u, nu, s)
            _after(stage, dt, u0, KU, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT,
                   alpha)
        if not all_finite(work[2]):
            return step
        y[:] = work[2]
    return -1


@njit(cache=True)
def advance_tangent(y, Q, n_steps, fused, dt, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI,
                    g_IE, g_II, I0, tau_E, tau_I, tau_D, u, work, twork, SE, NE, NI, zeros,
                    dnu, ds):
    """y and the tangent block Q (dim, m) by n_steps ETD4 steps. The tangent columns take
    the same stages with the same frozen L; y is bit-identical to `advance`.

    The slopes of y and Q come, per stage, from one fused gather (fused = True, m <=
    kernels.tangent_narrow.NARROW_MAX, records SE, NE, NI, zeros of kernels.tangent_narrow.fused_scratch)
    or from the block gather (kernels.tangent_block.field_tangent, scratch dnu, ds). Scratch: work
    as `advance`, twork (>= TANGENT_ROWS, dim, m). Returns -1, the index of the step
    after which y is not finite, or n_steps - 1 when only Q is not finite at the end.
    """
    N = n_rows(pre_E)
    n = y.shape[0]
    u0, KU, A, K, Z, ACC = _views(y, work, n)
    nu, s = work[6][:N], work[6][N:]
    dp, wnu = work[7][:N], work[7][N:]
    K_EE, K_IE = block_degrees(pre_E, N_E)
    K_EI, K_II = block_degrees(pre_I, N_E)
    C = np.empty((2, 3))
    S = np.empty((8, 2, 2))
    BE, G, BT, alpha = _set_scratch(1)
    TBE, TG, TBT, talpha = _set_scratch(Q.shape[1])
    for step in range(n_steps):
        _operator(y, N, N_E, code, Jc, K_EE, K_EI, K_IE, K_II, g_EE, g_EI, g_IE, g_II,
                  tau_E, tau_I, dt, dp, wnu, C, S)
        for stage in range(4):
            z, kv = _stage_state(stage, y, work)
            Zq = Q if stage == 0 else (twork[1] if stage == 1 else twork[2])
            KV = twork[0] if stage == 0 else twork[3]
            if fused:
                fused_rates(z, Zq, N, N_E, code, SE, NE, NI)
                fused_stage(z, z, work[5], kv, Zq, Zq, twork[5], KV, 0, 0.0, pre_E, pre_I,
                             N_E, Jc, g_EE, g_EI, g_IE, g_II, I0, tau_E, tau_I, tau_D, u,
                             SE, NE, NI, zeros)
            else:
                field_tangent(z, Zq, kv, KV, pre_E, pre_I, N_E, code, Jc, g_EE, g_EI, g_IE,
                              g_II, I0, tau_E, tau_I, tau_D, u, nu, s, dnu, ds)
            _after(stage, dt, u0, KU, A, K, Z, ACC, y, N, N_E, dp, wnu, C, S, BE, G, BT,
                   alpha)
            _after(stage, dt, Q, twork[0], twork[1], twork[3], twork[2], twork[4], y, N, N_E,
                   dp, wnu, C, S, TBE, TG, TBT, talpha)
        if not all_finite(work[2]):
            return step
        y[:] = work[2]
        Q[:, :] = twork[2]
    if not all_finite(Q.ravel()):
        return n_steps - 1
    return -1


def make_work(params, dtype=np.float64) -> np.ndarray:
    """Scratch for `advance` (float64 only: the population means are summed in float64)."""
    if np.dtype(dtype) != np.float64:
        raise ValueError(f"simulation.precision: invalid value {np.dtype(dtype).name!r} "
                         f"with method {METHOD}; allowed: float64")
    return np.zeros((WORK_ROWS, params.dim))


def make_tangent_work(params, m: int) -> np.ndarray:
    """Scratch for the tangent columns of `advance_fused`."""
    return np.zeros((TANGENT_ROWS, params.dim, m))
