"""Rule hetfp_compare: simulations that settle on a stationary heterogeneous state, polished
by Newton, against the self-consistent Gaussian theory (paper Fig 8C-D)."""
import numpy as np
import pandas as pd

from stdnet.io import atomic_h5, atomic_path, write_attrs
from stdnet.meanfield import heterogeneous_branch
from stdnet.params import ModelParams
from stdnet.runtime import setup
from stdnet.stability import settle_heterogeneous

log = setup(snakemake)  # noqa: F821 (injected by Snakemake)
p = snakemake.params  # noqa: F821
cfg, sim_cfg = p.hetfp, p.simulation
N, seed = int(cfg["N"]), int(cfg["seed"])
base = ModelParams.from_config(p.model, N=N, J0=float(cfg["J0"][0]))
rows = []
with atomic_h5(snakemake.output.h5) as f:  # noqa: F821
    write_attrs(f.create_group("params"), {**p.model, **cfg, "dt": sim_cfg["dt"],
                                           "perturbation": sim_cfg["perturbation"]})
    for J0 in cfg["J0"]:
        model = base.replace(J0=float(J0))
        out = settle_heterogeneous(model, seed, t_sim=cfg["t_sim"], dt=sim_cfg["dt"],
                                   settle_tol=cfg["settle_tol"],
                                   perturbation=sim_cfg["perturbation"])
        row = {"N": N, "seed": seed, "J0": float(J0), **out["summary"]}
        rows.append(row)
        g = f.create_group(f"J0~{J0:g}")
        write_attrs(g, row)
        g.create_dataset("h", data=out["y"][:N], compression="gzip")
        g.create_dataset("x", data=out["y"][N:], compression="gzip")
        log.info("J0=%g: settled=%s het=%s mu_E=%.4f sigma_E=%.4f (theory %.4f, %.4f)", J0,
                 row["settled"], row["heterogeneous"], row["mu_E"], row["sigma_E"],
                 row["theory_mu_E"], row["theory_sigma_E"])
    J0s = np.linspace(*cfg["theory_J0"], 60)
    branch = heterogeneous_branch(base, J0s, n_nodes=cfg["n_nodes"])
    theory = pd.DataFrame([{"J0": J, **(hp.to_dict() if hp else {})} for J, hp in
                           zip(J0s, branch)])
    f.create_dataset("theory", data=theory.reindex(
        columns=["J0", "mu_E", "mu_I", "sigma_E", "sigma_I"]).to_numpy(dtype=float))
with atomic_path(snakemake.output.table) as tmp:  # noqa: F821
    pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.8g")
