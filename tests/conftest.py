import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # tests are single-threaded unless they say so

import pytest  # noqa: E402

from stdnet.params import ModelParams, RunParams  # noqa: E402


@pytest.fixture
def small_params():
    return ModelParams(N=200, J0=1.5)


@pytest.fixture
def short_run():
    return RunParams(dt=0.05, t_transient=5.0, t_record=5.0, record_interval=0.5, n_record=3)
