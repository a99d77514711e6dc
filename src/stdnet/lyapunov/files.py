"""Files of the Lyapunov stage: the simulation a run starts from, lyapunov.h5, the table.

* `simulation_start`: the starting state (the simulation's final state, float64) and the
  observables of that simulation recorded next to the exponents;
* `write_lyapunov` / `read_lyapunov`: one run's exponents, CI diagnostics, local series,
  settings and observables (atomically; the run's checkpoint is removed once the file is
  complete);
* `lyapunov_table`: one row per lyapunov.h5 (rule lyapunov_table); `convergence_series`:
  the local exponents of some runs, for the convergence figure.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os

import h5py
import numpy as np
import pandas as pd

from stdnet.files import io
from stdnet.lyapunov.spectrum import LyapunovResult


def simulation_start(sim: dict, params, source="simulation") -> tuple[np.ndarray, dict]:
    """(y0, observables) of a simulation (stdnet.simulation.simulate.read_simulation of `source`).

    y0 is its final state as float64 (the tangent dynamics is float64 always); a state of
    another length than params.dim is a ValueError naming `source`. observables:
    state_observables and t_simulation, the simulated time of that final state.
    """
    y0 = np.asarray(sim["final"]["y"], dtype=np.float64)
    if y0.shape != (params.dim,):
        raise ValueError(f"{source}: /final/y has shape {y0.shape}, expected "
                         f"({params.dim},) for N={params.N}")
    observables = state_observables(sim, params)
    observables["t_simulation"] = float(sim["final"]["t"])
    return y0, observables


def state_observables(sim: dict, params) -> dict:
    """Spatial and temporal spreads of the inputs h from a simulation (read_simulation dict).

    spatial_sd: the larger over E and I of the across-neuron sd of the time-mean h;
    temporal_sd: rms over neurons of the temporal sd of h (recording window).
    """
    h_mean = np.asarray(sim["neurons"]["h_mean"], dtype=float)
    h_var = np.asarray(sim["neurons"]["h_var"], dtype=float)
    N_E = params.N_E
    spatial = max(float(h_mean[:N_E].std()), float(h_mean[N_E:].std()))
    temporal = float(np.sqrt(np.mean(np.clip(h_var, 0.0, None))))
    final_h = np.asarray(sim["final"]["y"][:params.N], dtype=float)
    spatial_final = max(float(final_h[:N_E].std()), float(final_h[N_E:].std()))
    return {"spatial_sd": spatial, "temporal_sd": temporal, "spatial_sd_final": spatial_final}


def write_lyapunov(path, res: LyapunovResult, params, settings, seed: int,
                   observables: dict | None = None, checkpoint_path=None) -> None:
    """Write one run's exponents, CI, local series and observables (atomically).

    The run's checkpoint, if given, is removed only once the output is complete, so a
    job killed at any moment leaves the checkpoint or the finished file.

    summary holds lambda_max with its CI diagnostics (ci_method, tau_int and
    batch_length in tau, n_batches, ci_envelope), t_average_total, n_extensions and,
    when onset_lyapunov made one, the chaos decision; cycle_* (stdnet.lyapunov.attractor.CycleCheck's
    fields) when the periodic-orbit check ran.
    """
    ky, ky_complete = res.kaplan_yorke()
    with io.atomic_h5(path) as f:
        io.write_params(f, params, seed)
        io.write_attrs(f.create_group("settings"), dataclasses.asdict(settings))
        meta = io.provenance()
        meta.update(wall_time_s=res.wall_time_s, qr_time_s=res.qr_time_s)
        io.write_attrs(f.create_group("meta"), meta)
        summary = {
            "lambda_max": res.lambda_max, "lambda_max_ci": float(res.half_width[0]),
            "converged": res.converged, "tolerance": res.tolerance,
            "ci_method": res.ci_method,
            "tau_int": float(res.tau_int[0] * res.delta_t) if res.tau_int.size else np.nan,
            "batch_length": (float(res.batch_length[0] * res.delta_t)
                             if res.batch_length.size else np.nan),
            "n_batches": int(res.n_batches[0]) if res.n_batches.size else -1,
            "ci_envelope": bool(res.ci_envelope[0]) if res.ci_envelope.size else False,
            "t_average_total": res.t_average,
            "n_extensions": int(res.n_extensions),
            "kaplan_yorke": ky, "kaplan_yorke_complete": ky_complete,
            "sum_exponents": float(res.exponents.sum()),
            "mean_divergence": float(res.divergence.mean()) if res.divergence.size else np.nan,
            "m": int(res.exponents.size),
        }
        if res.confidence != settings.confidence:  # error-controlled looks (sequential_alpha)
            summary["ci_level"] = res.confidence
        if res.decision:  # absent when no decision was made (readers apply the rule)
            summary["decision"] = res.decision
        if res.cycle:  # the periodic-orbit check ran (stdnet.lyapunov.attractor)
            summary.update({f"cycle_{k}": v for k, v in res.cycle.items()})
        io.write_attrs(f.create_group("summary"), summary)
        io.write_attrs(f.create_group("observables"), observables or {})
        io.write_datasets(f, {"exponents": res.exponents, "half_width": res.half_width,
                              "local": res.local, "local_align": res.local_align,
                              "times": res.times, "divergence": res.divergence,
                              "tau_int": res.tau_int * res.delta_t,
                              "batch_length": res.batch_length * res.delta_t,
                              "n_batches": res.n_batches, "ci_envelope": res.ci_envelope})
        f["times"].attrs["unit"] = "tau"
        f["tau_int"].attrs["unit"] = "tau"
        f["batch_length"].attrs["unit"] = "tau"
        f["local"].attrs["description"] = "local exponents log|R_kk|/delta_t per QR interval"
    if checkpoint_path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(checkpoint_path)


def read_lyapunov(path) -> dict:
    """Everything of a lyapunov.h5 file: groups' attributes as dicts, datasets as arrays."""


    with io.open_h5(path, kind="Lyapunov result") as f:
        out = {k: v[()] for k, v in f.items() if isinstance(v, h5py.Dataset)}
        for g in ("params", "settings", "meta", "summary", "observables"):
            out[g] = io.read_attrs(f[g])
    return out


def convergence_series(paths) -> list[dict]:
    """The local exponents of each run (for plotting.lyapunov.fig_convergence): label,
    interval end times, local series, lambda_max and its CI half width."""
    runs = []
    for path in paths:
        d = read_lyapunov(path)
        runs.append({"label": f"N={d['params']['N']}, J0={d['params']['J0']:g}, "
                              f"seed {d['params']['seed']}",
                     "times": d["times"], "local": d["local"],
                     "lambda_max": d["summary"]["lambda_max"],
                     "ci": d["summary"]["lambda_max_ci"]})
    return runs


def lyapunov_table(paths):
    """One row per lyapunov.h5: N, J0, seed, lambda_k, ci_k, summary and observables.

    Among the summary columns: decision (chaos decision, "" if none was recorded),
    t_average_total (averaging time after extensions), n_extensions, ci_method, and
    for lambda_max tau_int and batch_length (tau), n_batches and ci_envelope (whether
    ci_max is the envelope of the local exponents; -1 / NaN / "" / False for files
    written before these were recorded); cycle_found and cycle_period (τ) when the
    periodic-orbit check certified an orbit (False / NaN otherwise).
    """
    rows = []
    for path in paths:
        d = read_lyapunov(path)
        row = {"N": int(d["params"]["N"]), "J0": float(d["params"]["J0"]),
               "seed": int(d["params"]["seed"])}
        s = d["summary"]
        row.update(lambda_max=s["lambda_max"], ci_max=s["lambda_max_ci"],
                   converged=bool(s["converged"]), m=int(s["m"]),
                   kaplan_yorke=s["kaplan_yorke"],
                   kaplan_yorke_complete=bool(s["kaplan_yorke_complete"]),
                   sum_exponents=s["sum_exponents"], mean_divergence=s["mean_divergence"],
                   t_average=float(d["settings"]["t_average"]),
                   t_average_total=float(s.get("t_average_total", d["settings"]["t_average"])),
                   n_extensions=int(s.get("n_extensions", 0)),
                   decision=str(s.get("decision", "")),
                   ci_method=str(s.get("ci_method", "blocks")),
                   tau_int=float(s.get("tau_int", np.nan)),
                   batch_length=float(s.get("batch_length", np.nan)),
                   n_batches=int(s.get("n_batches", -1)),
                   ci_envelope=bool(s.get("ci_envelope", False)),
                   cycle_found=bool(s.get("cycle_found", False)),
                   cycle_period=float(s.get("cycle_period", np.nan)),
                   wall_time_s=float(d["meta"].get("wall_time_s", np.nan)),
                   qr_time_s=float(d["meta"].get("qr_time_s", np.nan)))
        row.update({k: float(v) for k, v in d["observables"].items()})
        for k, (lam, ci) in enumerate(zip(d["exponents"], d["half_width"]), start=1):
            row[f"lambda_{k}"] = float(lam)
            row[f"ci_{k}"] = float(ci)
        row["path"] = str(path)
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["N", "J0", "seed"]).reset_index(drop=True)
