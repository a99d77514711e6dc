"""Rule transition: J_FP, J_ch, width and route per realization; width vs N and its fit.

With transition.refine, J_ch is refined by bisection between the last non-chaotic
and the first chaotic grid J0: each new point is a full simulation (same settings
as the grid) followed by the exponents, classified with the same thresholds.
"""
import math

import pandas as pd

from stdnet.io import atomic_path
from stdnet.lyapunov import LyapunovSettings, network_lyapunov, state_observables
from stdnet.params import ModelParams, RunParams
from stdnet.regimes import (CHAOS, Thresholds, bisect_onset, classify, transition_table,
                            width_summary)
from stdnet.runtime import setup
from stdnet.simulate import simulate

log = setup(snakemake)  # noqa: F821
p = snakemake.params  # noqa: F821
cfg = p.transition
th = Thresholds(zero_tol=cfg["zero_tol"], temporal_sd_tol=cfg["temporal_sd_tol"],
                spatial_sd_tol=cfg["spatial_sd_tol"])
regimes = pd.read_csv(snakemake.input.regimes)  # noqa: F821
jfp = None
if "jfp" in snakemake.input.keys() and cfg["jfp_source"] == "auto":  # noqa: F821
    jfp = pd.read_csv(snakemake.input.jfp)  # noqa: F821
    log.info("J_FP from the stability stage (%s)", snakemake.input.jfp)  # noqa: F821
else:
    log.info("J_FP from the regimes: first grid J0 that is not a homogeneous fixed point")
trans = transition_table(regimes, jfp)
trans["J_ch_refined"] = False
refined_rows = []

if cfg["refine"]:
    settings = LyapunovSettings.from_config(p.lyapunov, p.simulation)  # n_exponents
    run = RunParams.from_config(p.simulation)

    for idx, row in trans.iterrows():
        if not (math.isfinite(row["J_ch"]) and math.isfinite(row["J_ch_lower"])):
            continue
        N, seed = int(row["N"]), int(row["seed"])

        def is_chaotic(J0, N=N, seed=seed):
            model = ModelParams.from_config(p.model, N=N, J0=J0)
            sim = simulate(model, run, seed)
            res, _ = network_lyapunov(model, sim["network"], sim["final"]["y"], settings, seed)
            obs = state_observables(sim, model)
            reg = classify(res.exponents, res.half_width, obs["temporal_sd"],
                           obs["spatial_sd"], th)
            refined_rows.append({"N": N, "seed": seed, "J0": J0, "regime": reg,
                                 "lambda_max": res.lambda_max, "ci_max": res.half_width[0]})
            log.info("refine N=%d seed=%d J0=%.4f: %s (lambda_max %.4f)", N, seed, J0, reg,
                     res.lambda_max)
            return reg == CHAOS

        upper, lower, _ = bisect_onset(is_chaotic, row["J_ch_lower"], row["J_ch"],
                                       cfg["refine_steps"])
        trans.loc[idx, ["J_ch", "J_ch_lower", "J_ch_refined"]] = (upper, lower, True)
        trans.loc[idx, "width"] = upper - row["J_FP"]

per_N, fit = width_summary(trans)
log.info("width fit: a = %.3g +- %.2g, J_c = %.4g +- %.2g", fit["a"], fit["a_se"], fit["J_c"],
         fit["J_c_se"])
for path, df in ((snakemake.output.table, trans), (snakemake.output.per_N, per_N),  # noqa: F821
                 (snakemake.output.fit, pd.DataFrame([fit])),  # noqa: F821
                 (snakemake.output.refined, pd.DataFrame(  # noqa: F821
                     refined_rows, columns=["N", "seed", "J0", "regime", "lambda_max",
                                            "ci_max"]))):
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
