import numpy as np
import pytest

from stdnet.model.network import build_network, index_dtype
from stdnet.model.params import ModelParams


@pytest.mark.parametrize("N,c", [(200, 0.1), (500, 0.3), (50, 0.9)])
def test_fixed_in_degree_without_duplicates_or_self(N, c):
    p = ModelParams(N=N, J0=1.0, c=c)
    net = build_network(p, seed=7)
    assert net.pre_E.shape == (N, p.K_E) and net.pre_I.shape == (N, p.K_I)
    for i in range(N):
        e = net.pre_E[i].astype(int)
        inh = net.pre_I[i].astype(int) + p.N_E
        assert len(np.unique(e)) == p.K_E and len(np.unique(inh)) == p.K_I
        assert e.min() >= 0 and e.max() < p.N_E
        assert inh.min() >= p.N_E and inh.max() < N
        assert i not in e and i not in inh
        assert np.all(np.diff(e) > 0)  # rows sorted
    A = net.adjacency()
    assert np.all(np.asarray(A.sum(axis=1)).ravel() == p.K_E + p.K_I)
    assert A.diagonal().sum() == 0


def test_same_seed_same_network_other_seed_differs():
    p = ModelParams(N=300, J0=1.0)
    a, b, c = build_network(p, 3), build_network(p, 3), build_network(p, 4)
    assert np.array_equal(a.pre_E, b.pre_E) and np.array_equal(a.pre_I, b.pre_I)
    assert not np.array_equal(a.pre_E, c.pre_E)


def test_inputs_are_uniform_over_the_pool():
    """Every E neuron is chosen about equally often: in-degree fixed, out-degree ~ binomial.

    N_E = 800, K_E = 80, 1000 rows: each E neuron is picked ~100 times (sd ~ 9.5);
    over 800 neurons the mean out-degree is exactly N K_E / N_E and the spread must
    be binomial-like (sd within 30% of sqrt(n p (1-p))).
    """
    p = ModelParams(N=1000, J0=1.0)
    net = build_network(p, 11)
    counts = np.bincount(net.pre_E.ravel().astype(int), minlength=p.N_E)
    assert counts.mean() == pytest.approx(p.N * p.K_E / p.N_E)
    expected_sd = np.sqrt(p.N * (p.K_E / (p.N_E - 1)) * (1 - p.K_E / (p.N_E - 1)))
    assert abs(counts.std() / expected_sd - 1) < 0.3


def test_index_dtype_is_narrowest():
    assert index_dtype(65536) == np.uint16
    assert index_dtype(65537) == np.uint32
