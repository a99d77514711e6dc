"""What the DMF solves: populations, the signals they emit, and how those signals make
each population's input noise and mean (docs/dmf.md, section 2).

DMFProblem is the general form; network_problem builds the E/I network with STD on
E->E, scs_problem the Sompolinsky-Crisanti-Sommers network (the oracle test).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stdnet.model.params import ModelParams
from stdnet.model.transfer import TANH
from stdnet.theory.meanfield import balanced_limit, homogeneous_fixed_point

NU, XNU = 0, 1  # signal kinds: the rate, or the depressed output x * rate
MEAN_MODES = ("fixed", "balanced", "finite_K")


@dataclass(frozen=True)
class DMFProblem:
    """Populations, the signals they emit, and how signals make the input noise.

    Input-noise autocovariance of population a: sum_s weights[a, s] A_s(t), A_s
    the autocovariance of signal s = (pop, kind) (connected: about the mean, or
    the full second moment). Mean equations (mode balanced / finite_K):
    kappa (mu_a - I0) / G = sum_s bracket[a, s] <s>, kappa = 0 or 1.
    """

    names: tuple
    code: int
    tau: tuple
    u: tuple
    tau_D: tuple
    signals: tuple  # ((pop, kind), ...)
    weights: np.ndarray  # (n_pop, n_signals)
    connected: bool
    mean_mode: str
    mu0: tuple  # fixed means, or the starting guess
    bracket: np.ndarray | None = None
    I0: float = 0.0
    G: float = math.inf
    static: bool = True  # estimate a static (quenched) part q; False where symmetry makes q = 0
    info: dict = field(default_factory=dict, compare=False)

    @property
    def n_pop(self) -> int:
        return len(self.names)


def network_problem(params: ModelParams, finite_K: bool = True, one_minus_c: bool = True,
                    shared_input: bool = True) -> DMFProblem:
    """The E/I network with STD on E->E (docs/dmf.md, section 2).

    finite_K: mean equation with G = sqrt(K) J0 and gamma = K_I/K_E of params.N
    (else the balanced limit G -> inf, gamma = N_I/N_E); one_minus_c: the (1 - c)
    factor of the quenched-input variance; shared_input: subtract the shared
    population mean from each neuron's input (the fixed in-degree sum
    sum_j (a_ij - c) = 0), i.e. connected rather than full autocovariances.
    """
    p = params
    gam = p.gamma if finite_K else (1.0 - p.f_E) / p.f_E
    f = (1.0 - p.c) if one_minus_c else 1.0
    J2 = p.J0 ** 2 * f
    # signals: 0 = nu_E (seen by I), 1 = x nu_E (seen by E), 2 = nu_I
    signals = ((0, NU), (0, XNU), (1, NU))
    W = np.array([[0.0, J2 * p.g_EE ** 2, J2 * gam * p.g_EI ** 2],
                  [J2 * p.g_IE ** 2, 0.0, J2 * gam * p.g_II ** 2]])
    B = np.array([[0.0, p.g_EE, -gam * p.g_EI],
                  [p.g_IE, 0.0, -gam * p.g_II]])
    if finite_K:
        fp = homogeneous_fixed_point(p)
        mu0 = (fp.h_E, fp.h_I)
    else:
        lim = balanced_limit(p)
        mu0 = (lim.h_E, lim.h_I)
    return DMFProblem(names=("E", "I"), code=p.transfer_code, tau=(p.tau_E, p.tau_I),
                      u=(p.u, 0.0), tau_D=(p.tau_D, p.tau_D), signals=signals, weights=W,
                      connected=bool(shared_input), mean_mode="finite_K" if finite_K else "balanced",
                      mu0=tuple(float(m) for m in mu0), bracket=B, I0=p.I0,
                      G=p.G if finite_K else math.inf,
                      # N and K_E = 0: the balanced limit, the same for every N
                      info={"J0": p.J0, "I0": p.I0, "N": p.N if finite_K else 0,
                            "K_E": p.K_E if finite_K else 0, "gamma": gam,
                            "finite_K": bool(finite_K), "one_minus_c": bool(one_minus_c),
                            "shared_input": bool(shared_input), "c": p.c,
                            "transfer": p.transfer})


def scs_problem(g: float) -> DMFProblem:
    """Sompolinsky-Crisanti-Sommers: one population, phi = tanh, no STD, J ~ N(0, g^2/N).

    phi odd and J symmetric about 0 make the static part vanish (q = 0) by symmetry."""
    return DMFProblem(names=("X",), code=TANH, tau=(1.0,), u=(0.0,), tau_D=(1.0,),
                      signals=((0, NU),), weights=np.array([[g * g]]), connected=False,
                      mean_mode="fixed", mu0=(0.0,), static=False,
                      info={"g": g, "transfer": "tanh"})
