"""The circulant-embedding sampler reproduces a prescribed autocovariance.

Sample: 2000 paths of 512 points (dt = 0.1, so 51 tau each; no transient is
needed, the paths are exactly stationary). Per lag k, the per-path estimates of
the autocovariance are independent across paths; the tolerance is 5 standard
errors of their mean (a two-sided 5-sigma band, ~6e-7 false-alarm chance per lag,
61 lags tested).
"""
import numpy as np
import pytest

from stdnet.stats.gaussian_paths import (Spectrum, embedding_eigenvalues, embedding_size,
                                   ensemble_autocovariance, sample_paths)

DT = 0.1
N_POINTS = 512
N_PATHS = 2000
N_LAGS = 61


def _per_path_autocov(paths, n_lags):
    n = paths.shape[1]
    P = embedding_size(n, n)
    f = np.fft.rfft(paths, n=P, axis=1)
    s = np.fft.irfft(np.abs(f) ** 2, n=P, axis=1)[:, :n_lags]
    return s / (n - np.arange(n_lags))


@pytest.mark.parametrize("shape", ["exp", "smooth", "damped_cos"])
def test_sampler_reproduces_autocovariance(shape):
    t = np.arange(200) * DT
    acf = {"exp": 2.0 * np.exp(-t),
           "smooth": 0.7 * (1 + t / 1.5) * np.exp(-t / 1.5),
           "damped_cos": np.exp(-t / 2.0) * np.cos(1.3 * t)}[shape]
    rng = np.random.default_rng(12345)
    paths = sample_paths(acf, N_POINTS, N_PATHS, rng)
    assert paths.shape == (N_PATHS, N_POINTS)
    per = _per_path_autocov(paths, N_LAGS)
    est = per.mean(axis=0)
    se = per.std(axis=0, ddof=1) / np.sqrt(N_PATHS)
    z = (est - acf[:N_LAGS]) / se
    assert np.all(np.abs(z) < 5.0), f"max |z| = {np.abs(z).max():.2f} at lag {np.abs(z).argmax()}"
    # the pooled estimator agrees with the per-path mean (same sums)
    np.testing.assert_allclose(ensemble_autocovariance(paths, N_LAGS), est, rtol=1e-10,
                               atol=1e-12)
    # paths are mutually independent: the mean cross-covariance at lag 0 is ~0
    cross = (paths[0::2] * paths[1::2]).mean(axis=1)
    assert abs(cross.mean()) < 5 * cross.std(ddof=1) / np.sqrt(cross.size)


def test_embedding_eigenvalues_of_white_noise_are_flat():
    lam = embedding_eigenvalues(np.array([3.0]), 16)
    np.testing.assert_allclose(lam, 3.0)


def test_negative_eigenvalues_are_clipped_and_reported():
    # a box-shaped "autocovariance" is not positive definite
    spec = Spectrum.from_acf(np.ones(20), embedding_size(64, 19))
    assert spec.clipped_fraction > 0
    assert np.all(spec.eig >= 0)


def test_bad_size_is_refused():
    with pytest.raises(ValueError, match="size"):
        embedding_eigenvalues(np.ones(10), 8)
