"""Replay the periodic-orbit check (stdnet.lyapunov.attractor) on a finished study's Lyapunov runs.

For every lyapunov.h5 under RESULTS whose first look was undecided (n_extensions >= 1, or
decision "undecided") with |lambda_max| < zero_tol there (as in the stage; --all: every
undecided first look), the state at that look is rebuilt exactly (the simulation's final
state advanced by t_align + t_average with the run's own integrator: the tangent run's
trajectory is bit-identical to it) and check_cycle runs from there for --t-check tau.
Prints one line per run and a summary: how many would have been certified, what the
recorded decision of those was (a certified run recorded "chaotic" would be a changed
decision), the averaging time the recorded runs spent after the first look, and the
trajectory time the check costs.

    python tools/cycle_replay.py results-width-etd --t-check 400 [--N 1000 2000] [--out F.csv]

A run certified after t_checked tau is certified by any budget >= t_checked (the check
stops at its first certification), so one replay at the largest budget answers smaller ones.
"""
from __future__ import annotations

import argparse
import glob
import os
import time

import numpy as np
import pandas as pd

from stdnet.lyapunov.attractor import check_cycle, mean_excitatory_input, network_stepper
from stdnet.lyapunov.files import read_lyapunov
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
from stdnet.simulation.simulate import read_simulation


def replay(path: str, d: dict, t_check: float) -> dict:
    """d: read_lyapunov(path)."""
    p, s, st = d["params"], d["summary"], d["settings"]
    params = ModelParams.from_config({k: p[k] for k in ModelParams.constant_names() if k in p},
                                     N=int(p["N"]), J0=float(p["J0"]))
    seed = int(p["seed"])
    net = build_network(params, seed)
    sim = read_simulation(os.path.join(os.path.dirname(path), "simulation.h5"))
    y = np.array(sim["final"]["y"], dtype=np.float64)
    step = network_stepper(params, net, st["method"])
    dt = float(st["dt"])
    n_avg = int(round(float(st["t_average"]) / float(st["delta_t"])))
    t0 = time.perf_counter()
    for _ in range(int(round((float(st["t_align"]) + float(st["t_average"])) / dt))):
        step(y, dt)
    found = check_cycle(step, y, dt, t_check, mean_excitatory_input(params))
    return {"N": params.N, "J0": params.J0, "seed": seed, "decision": s.get("decision", ""),
            "lambda_max": s["lambda_max"], "ci": s["lambda_max_ci"],
            "t_average_total": s["t_average_total"], "t_average": float(st["t_average"]),
            "lambda_first": float(np.mean(d["local"][:n_avg, 0])),
            "found": found.found, "criterion": found.criterion, "period": found.period,
            "p": found.returns_per_period, "distance": found.distance,
            "t_checked": found.t_checked, "wall_s": time.perf_counter() - t0}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--t-check", type=float, default=200.0)
    ap.add_argument("--N", type=int, nargs="*", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--zero-tol", type=float, default=0.005)
    ap.add_argument("--all", action="store_true",
                    help="also the runs whose first look has |lambda_max| >= zero-tol")
    a = ap.parse_args(argv)
    rows = []
    for path in sorted(glob.glob(os.path.join(a.results, "N~*", "J0~*", "seed~*", "lyapunov.h5"))):
        d = read_lyapunov(path)
        s = d["summary"]
        if a.N and int(d["params"]["N"]) not in a.N:
            continue
        if int(s.get("n_extensions", 0)) < 1 and s.get("decision") != "undecided":
            continue
        n_avg = int(round(float(d["settings"]["t_average"]) / float(d["settings"]["delta_t"])))
        if not a.all and not abs(float(np.mean(d["local"][:n_avg, 0]))) < a.zero_tol:
            continue  # the stage checks only where the first look's estimate is < zero_tol
        r = replay(path, d, a.t_check)
        rows.append(r)
        print(f"N={r['N']} J0={r['J0']:.6g} seed={r['seed']}: recorded {r['decision']} "
              f"({r['lambda_max']:+.4f} +- {r['ci']:.4f}, {r['t_average_total']:g} tau); check: "
              + (f"{r['criterion']} orbit, period {r['period']:.1f} tau (p={r['p']}), "
                 f"d={r['distance']:.1e} after {r['t_checked']:g} tau" if r["found"] else
                 f"none in {r['t_checked']:g} tau (closest {r['distance']:.1e})"), flush=True)
    t = pd.DataFrame(rows)
    if a.out:
        t.to_csv(a.out, index=False)
    if t.empty:
        print("no run with an undecided first look")
        return
    f = t[t.found]
    print(f"\n{len(t)} runs with an undecided first look; certified periodic: {len(f)}")
    print("recorded decisions of the certified:", dict(f.decision.value_counts()))
    print("recorded decisions of the rest:", dict(t[~t.found].decision.value_counts()))
    saved = float((f.t_average_total - f.t_average).sum())
    print(f"averaging tau after the first look: certified runs {saved:g} (saved), others "
          f"{float((t[~t.found].t_average_total - t[~t.found].t_average).sum()):g}; "
          f"check trajectory tau: certified {float(f.t_checked.sum()):g}, others "
          f"{float(t[~t.found].t_checked.sum()):g}")


if __name__ == "__main__":
    main()
