"""The discretisation error of lambda_1: ETD4 at several dt against RK4 at a small dt, over
the same window from the same attractor state (docs/performance.md, "Accurate step").

    python tools/etd_accuracy.py --N 2000 --window 50 --J0 0.9 1.2
    python tools/etd_accuracy.py --N 2000 --window 8 --J0 1.6 2.0

The state is taken after 300 tau of RK4 at dt = 0.05 from the kicked homogeneous fixed point
(seed 1); one tangent vector is renormalised every tau. The window must be short enough that
chaos (e^{lambda T}) does not amplify the step's error into a different trajectory: the
differences printed are then the step's, not chance.
"""
import argparse
import time

import numpy as np

from stdnet.kernels.cpu import advance, kernel_args, make_work
from stdnet.lyapunov.tangent import TangentStepper
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.theory.meanfield import homogeneous_fixed_point

CASES = (("rk4", 0.05), ("etd4", 0.05), ("etd4", 0.1), ("etd4", 0.2), ("etd4", 0.25))


def ftle(p, net, y, q0, method, dt, window):
    st = TangentStepper(p, net, 1, dt, method)
    y, Q, s = y.copy(), q0.copy(), 0.0
    for _ in range(int(window)):
        st.advance(y, Q, round(1.0 / dt))
        n = np.linalg.norm(Q)
        s += np.log(n)
        Q /= n
    return s / int(window)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--N", type=int, default=2000)
    ap.add_argument("--window", type=float, default=50.0, help="tau (whole)")
    ap.add_argument("--J0", type=float, nargs="+", default=[0.9, 1.2])
    ap.add_argument("--ref-dt", type=float, default=0.0125, help="RK4 reference step")
    a = ap.parse_args()
    print(f"{'N':>6} {'J0':>5} {'window':>6} {'lambda_1 ref':>12} "
          + " ".join(f"{m + ' ' + str(dt):>11}" for m, dt in CASES) + "  (difference to ref)")
    for J0 in a.J0:
        p = ModelParams(N=a.N, J0=J0)
        net = build_network(p, 1)
        y = homogeneous_fixed_point(p).state(p)
        y[:p.N] += np.random.default_rng(0).normal(0.0, 1e-3, p.N)
        advance(y, int(300 / 0.05), 0, 0.05, *kernel_args(p, net), make_work(p))
        q0 = np.random.default_rng(2).normal(size=(p.dim, 1))
        q0 /= np.linalg.norm(q0)
        t0 = time.time()
        ref = ftle(p, net, y, q0, "rk4", a.ref_dt, a.window)
        diffs = [ftle(p, net, y, q0, m, dt, a.window) - ref for m, dt in CASES]
        print(f"{a.N:>6} {J0:>5g} {a.window:>6g} {ref:>12.5f} "
              + " ".join(f"{d:>+11.1e}" for d in diffs) + f"  ({time.time() - t0:.0f} s)",
              flush=True)


if __name__ == "__main__":
    main()
