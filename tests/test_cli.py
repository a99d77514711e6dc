import json
import subprocess
import sys

import pytest

from stdnet.cli import main
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.params import ModelParams
from stdnet.simulation.simulate import read_simulation


def test_fixed_point_prints_json(capsys):
    assert main(["fixed-point", "--N", "10000", "--J0", "1.5", "--limit"]) == 0
    out = json.loads(capsys.readouterr().out)
    fp = homogeneous_fixed_point(ModelParams(N=10000, J0=1.5))
    assert out["nu_E"] == pytest.approx(fp.nu_E, rel=1e-12)
    assert out["K_E"] == 800 and out["limit"]["x"] == pytest.approx(0.15625)
    assert len(out["homogeneous_eigenvalues"]) == 3


def test_simulate_writes_file(tmp_path, capsys):
    path = tmp_path / "run.h5"
    assert main(["simulate", "--N", "200", "--J0", "1.5", "--t_transient", "2",
                 "--t_record", "2", "-o", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == str(path)
    assert read_simulation(path)["params"]["N"] == 200


def test_bad_parameter_is_a_clear_error(capsys):
    assert main(["fixed-point", "--N", "1000", "--J0", "1", "--transfer", "heaviside"]) == 2
    assert "transfer: invalid value 'heaviside'" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["simulate", "fixed-point"])
def test_help(cmd):
    out = subprocess.run([sys.executable, "-m", "stdnet.cli", cmd, "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--J0" in out.stdout


def test_every_flag_takes_both_spellings():
    """--t_transient and --t-transient, --n-record and --n_record, --tau_D and --tau-D: the
    flags mixed both styles, so each takes either."""
    from stdnet.cli import build_parser

    parse = build_parser().parse_args
    base = ["simulate", "--N", "200", "--J0", "1", "-o", "x.h5"]
    a = parse(base + ["--t_transient", "3", "--n-record", "2", "--tau_D", "40",
                      "--progress-every", "7"])
    b = parse(base + ["--t-transient", "3", "--n_record", "2", "--tau-D", "40",
                      "--progress_every", "7"])
    assert vars(a) == vars(b)
    assert (a.t_transient, a.n_record, a.tau_D, a.progress_every) == (3.0, 2, 40.0, 7.0)
