"""The optimised kernels against independent references (numpy dense, scipy CSR).

Tolerances: float64 results agree with the references to round-off. The
references sum the same terms in another order (BLAS / CSR row order), so the
difference is a few ulp of the largest partial sum: we allow 1e-13 relative to
the scale of the synaptic input (|a_E| * K_E * max(nu) ~ sqrt(K)), far below
any modelling effect and far above the 1e-16 noise floor.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from stdnet.kernels.cpu import (METHOD_CODES, PRECISIONS, advance, kernel_args, make_work,
                              network_vector_field, packed_rows, packing_pays,
                              row_sum)
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.network import build_network, index_dtype
from stdnet.model.params import ModelParams, RunParams
from stdnet.kernels.reference import ReferenceModel, phi_numpy, weight_matrix
from stdnet.model.transfer import TRANSFER_NAMES, phi


def _state(p, kick=0.3, seed=0):
    """Fixed point plus a kick large enough to make every row's input different."""
    y = homogeneous_fixed_point(p).state(p)
    g = np.random.default_rng(seed)
    y[:p.N] += kick * g.standard_normal(p.N)
    y[p.N:] = np.clip(y[p.N:] + 0.1 * g.standard_normal(p.N_E), 0.05, 1.0)
    return y


def _scale(p):
    return p.coupling * max(p.g_EE, p.g_IE, p.g_EI, p.g_II) * (p.K_E + p.K_I) * 2.0


@pytest.mark.parametrize("transfer", TRANSFER_NAMES)
def test_vector_field_matches_dense_numpy(transfer):
    p = ModelParams(N=300, J0=1.2, transfer=transfer, I0=0.3)
    net = build_network(p, 3)
    y = _state(p)
    ours = network_vector_field(p, net, y)
    ref = ReferenceModel(p, net, "dense").vector_field(y)
    assert np.max(np.abs(ours - ref)) <= 1e-13 * _scale(p)


def test_dense_and_csr_references_agree():
    p = ModelParams(N=250, J0=0.9)
    net = build_network(p, 2)
    W = weight_matrix(p, net, "dense")
    assert np.array_equal(W, weight_matrix(p, net, "csr").toarray())
    # every row has K_E excitatory and K_I inhibitory nonzeros, no self-coupling
    assert np.all((W[:, :p.N_E] > 0).sum(1) == p.K_E)
    assert np.all((W[:, p.N_E:] < 0).sum(1) == p.K_I)
    assert np.all(np.diag(W) == 0)


def test_phi_numpy_matches_package_phi():
    h = np.linspace(-30, 30, 101)
    for name in TRANSFER_NAMES:
        assert np.allclose(phi_numpy(name, h), phi(name, h), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("method", ["rk4", "euler"])
def test_advance_matches_csr_reference(method):
    p = ModelParams(N=400, J0=1.5)
    net = build_network(p, 1)
    y0 = _state(p)
    y = y0.copy()
    n, dt = 20, 0.05
    assert advance(y, n, METHOD_CODES[method], dt, *kernel_args(p, net), make_work(p)) == -1
    ref = ReferenceModel(p, net, "csr").advance(y0, n, dt, method)
    assert np.max(np.abs(y - ref)) <= 1e-13 * _scale(p)
    assert np.max(np.abs(y - y0)) > 1e-3  # it moved


def test_row_sum_order_and_value():
    g = np.random.default_rng(5)
    src = g.standard_normal(1000)
    for K in (0, 1, 3, 4, 7, 64, 203):
        row = np.sort(g.choice(1000, K, replace=False)).astype(np.uint16)
        v = src[row]
        # the documented order: lanes k % 4 (tail into lane 0), then (a0 + a1) + (a2 + a3)
        K4 = K - K % 4
        lanes = [sum(v[l:K4:4], 0.0) for l in range(4)]
        for t in v[K4:]:
            lanes[0] += t
        expect = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
        got = row_sum(src, row)
        assert got == expect
        if K % 4 == 0:  # four indices per uint64 word: the same lanes, the same bits
            assert row_sum(src, row.view(np.uint64)) == expect
            assert row_sum(src.astype(np.float32), row.view(np.uint64)) == \
                row_sum(src.astype(np.float32), row)
        assert abs(got - v.sum()) <= 1e-12 * max(1.0, np.abs(v).sum())


def test_packed_rows_only_where_exact():
    rows = np.arange(24, dtype=np.uint16).reshape(3, 8)
    words = packed_rows(rows)
    assert words.dtype == np.uint64 and words.shape == (3, 2)
    assert np.shares_memory(words, rows)  # a view: no second copy of the pattern
    assert words[1, 0] == 8 | 9 << 16 | 10 << 32 | 11 << 48  # first index in the low bits
    for other in (rows[:, :6], rows.astype(np.uint32), rows[:, 2:]):  # K % 4, wide, unaligned
        assert packed_rows(other) is other
    with pytest.raises(ValueError, match="at most 2\\*\\*32"):
        index_dtype(2**32 + 1)


def test_packing_follows_the_l1_cache():
    kib = 1024
    assert not packing_pays(4000, np.float64, l1d=48 * kib)  # 31 KiB of rates: L1 hits
    assert packing_pays(8000, np.float64, l1d=48 * kib)  # 62 KiB: L2 hits
    assert not packing_pays(8000, np.float32, l1d=48 * kib)  # 31 KiB again
    p = ModelParams(N=10000, J0=1.0)  # auto: the choice of packing_pays on this machine
    args = kernel_args(p, build_network(p, 1))
    assert (args[0].dtype == np.uint64) == packing_pays(p.N_E, np.float64)


@pytest.mark.parametrize("N, c", [(400, 0.1), (310, 0.1)])  # K_I = 8 (packed), 6 (plain)
def test_packed_and_plain_rows_give_the_same_bytes(N, c):
    p = ModelParams(N=N, J0=1.5, c=c)
    net = build_network(p, 2)
    packed, plain = kernel_args(p, net, packed=True), kernel_args(p, net, packed=False)
    assert (packed[1].dtype == np.uint64) == (p.K_I % 4 == 0)
    assert plain[0].dtype == np.uint16
    for dtype in PRECISIONS.values():
        y0 = _state(p).astype(dtype)
        a, b = y0.copy(), y0.copy()
        advance(a, 20, 0, 0.05, *packed, make_work(p, dtype))
        advance(b, 20, 0, 0.05, *plain, make_work(p, dtype))
        assert np.array_equal(a, b)
        assert not np.array_equal(a, y0)


def test_chunked_equals_one_call_both_precisions():
    p = ModelParams(N=300, J0=1.5)
    net = build_network(p, 4)
    args = kernel_args(p, net)
    for dtype in PRECISIONS.values():
        y0 = _state(p).astype(dtype)
        one = y0.copy()
        advance(one, 30, 0, 0.05, *args, make_work(p, dtype))
        parts = y0.copy()
        w = make_work(p, dtype)
        for n in (7, 1, 12, 10):
            advance(parts, n, 0, 0.05, *args, w)
        assert parts.dtype == dtype
        assert np.array_equal(one, parts)


def test_float32_state_stays_close_to_float64():
    """float32 state, rates and sums over t = 10 tau (200 RK4 steps) at J0 = 1.5.

    Rounding to float32 injects relative errors of 6e-8 per operation (sums of
    K terms: ~sqrt(K) times that); they are amplified by the dynamics. We bound the deviation by 5e-5 (absolute,
    h and x are O(1)), and check it is not zero (the float32 path really runs in
    float32). A float64 run kicked by 1e-7 deviates by the same order, which is
    what the bound allows for.
    """
    p = ModelParams(N=400, J0=1.5)
    net = build_network(p, 1)
    args = kernel_args(p, net)
    y0 = _state(p, kick=0.1).astype(np.float32).astype(np.float64)
    y64 = y0.copy()
    advance(y64, 200, 0, 0.05, *args, make_work(p))
    y32 = y0.astype(np.float32)
    advance(y32, 200, 0, 0.05, *args, make_work(p, np.float32))
    dev = np.max(np.abs(y32.astype(np.float64) - y64))
    assert 0 < dev < 5e-5


def test_divergence_reports_step_and_keeps_last_finite_state():
    p = ModelParams(N=200, J0=1.0)
    net = build_network(p, 1)
    y = _state(p)
    y[0] = 1e200  # relu: the rate is h itself, so the input overflows quickly
    p = p.replace(transfer="relu")
    bad = advance(y, 50, 0, 0.5, *kernel_args(p, net), make_work(p))
    assert 0 <= bad < 50
    assert np.all(np.isfinite(y))


def _naive_network_rows(uniforms, ks, n_pool, exclude):
    """Floyd's algorithm in plain Python with a sort: the specification of floyd_rows."""
    out, base = [], 0
    for r, k in enumerate(ks):
        n = n_pool - 1 if exclude[r] >= 0 else n_pool
        chosen = set()
        for slot, j in enumerate(range(n - k, n)):
            t = min(int(uniforms[base + slot] * (j + 1)), j)
            chosen.add(j if t in chosen else t)
        out += sorted(v + 1 if 0 <= exclude[r] <= v else v for v in chosen)
        base += k
    return np.array(out)


@pytest.mark.parametrize("ragged", [False, True])
def test_network_draw_matches_naive_floyd(ragged):
    """Rows of one length (fixed in-degree) and of lengths 0..n_pool-1 (ragged)."""
    from stdnet.model.network import floyd_rows, row_bounds

    g = np.random.default_rng(7)
    n_pool, rows = 500, 40
    ks = g.integers(0, n_pool, rows) if ragged else np.full(rows, 60)
    ks[:2] = (0, n_pool - 1) if ragged else ks[:2]  # an empty row and a full one
    ptr = row_bounds(ks)
    u = g.random(ptr[-1])
    exclude = np.where(np.arange(rows) % 3 == 0, g.integers(0, n_pool, rows), -1)
    exclude[1] = 17  # the full row excludes one neuron
    out = np.empty(ptr[-1], dtype=np.uint16)
    floyd_rows(u, ptr, n_pool, exclude.astype(np.int64), out)
    assert np.array_equal(out, _naive_network_rows(u, ks, n_pool, exclude))


def test_network_structure():
    p = ModelParams(N=1000, J0=1.0)
    net = build_network(p, 11)
    assert net.pre_E.dtype == np.uint16 and net.pre_I.dtype == np.uint16
    assert index_dtype(70000) == np.uint32
    for pre, n_pool, offset in ((net.pre_E, p.N_E, 0), (net.pre_I, p.N_I, p.N_E)):
        assert np.all(np.diff(pre.astype(np.int64), axis=1) > 0)  # sorted, distinct
        assert pre.max() < n_pool
        own = np.arange(p.N)[:, None] - offset
        assert not np.any(pre.astype(np.int64) == own)  # no autapses
    again = build_network(p, 11)
    assert np.array_equal(net.pre_E, again.pre_E) and np.array_equal(net.pre_I, again.pre_I)


def test_run_params_precision_validated():
    assert RunParams().precision == "float64"
    with pytest.raises(ValueError, match="precision.*float16.*float64, float32"):
        RunParams(precision="float16")


def test_simulator_float32_chunked_equals_one_run():
    from stdnet.simulation.simulate import Simulator

    p = ModelParams(N=200, J0=1.5)
    kw = dict(dt=0.05, t_transient=1.0, t_record=2.0, record_interval=0.5,
              precision="float32")
    a = Simulator(p, RunParams(chunk_steps=1000, **kw), seed=1)
    a.advance_to(10 ** 9)
    b = Simulator(p, RunParams(chunk_steps=3, **kw), seed=1)
    for target in (4, 17, 10 ** 9):
        b.advance_to(target)
    ra, rb = a.result(), b.result()
    assert np.array_equal(ra["final"]["y"], rb["final"]["y"])
    assert np.array_equal(ra["population"]["nu_E"], rb["population"]["nu_E"])
    y = ra["final"]["y"]
    assert np.array_equal(y, y.astype(np.float32).astype(np.float64))


_THREADS_SCRIPT = r"""
import json, numba, numpy as np
from stdnet.kernels.cpu import advance, kernel_args, make_work
from stdnet.theory.meanfield import homogeneous_fixed_point
from stdnet.model.network import build_network
from stdnet.model.params import ModelParams
p = ModelParams(N=600, J0=1.5)
net = build_network(p, 2)
y0 = homogeneous_fixed_point(p).state(p)
y0[:p.N] += 0.2 * np.random.default_rng(0).standard_normal(p.N)
out = {}
for t in (1, 2):
    numba.set_num_threads(t)
    y = y0.copy()
    advance(y, 10, 0, 0.05, *kernel_args(p, net), make_work(p))
    out[t] = y.tobytes().hex()
print(json.dumps({"same": out[1] == out[2], "threads": numba.config.NUMBA_NUM_THREADS,
                  "net": [int(net.pre_E.astype(np.int64).sum()), int(net.pre_I.sum())]}))
"""


def test_bit_identical_for_any_thread_count():
    """Run in a child with 2 numba threads (the suite itself runs with 1)."""
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    res = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["threads"] == 2
    assert out["same"]
    p = ModelParams(N=600, J0=1.5)
    net = build_network(p, 2)  # the parallel network draw gives the same network too
    assert out["net"] == [int(net.pre_E.astype(np.int64).sum()), int(net.pre_I.sum())]
