"""The statistics that several stages share, so that a definition (what "decorrelation time"
means, how an interval or a fit in N is built) lives in one place.

A small package rather than one module because the three parts are separate ideas and
together pass ~400 lines:

* stats.correlation_times: autocorrelation, integrated autocorrelation time (Sokal window),
  decorrelation time;
* stats.intervals: confidence intervals of means -- of independent values (t), of time
  series (fixed blocks; batch means sized by tau_int) -- and standard errors for sizes with
  one realization;
* stats.fits: weighted least-squares fits in N (a + b N^p, A N^beta, w_inf + a N^-beta with
  free beta), lack of fit, Wald intervals, Akaike weights.

Everything is imported from here: `from stdnet.stats import batch_means_ci`.
"""
from stdnet.stats.correlation_times import (
                                MIN_LENGTH,
                                SOKAL_C,
                                AutocorrelationTime,
                                autocorrelation,
                                decorrelation_time,
                                integrated_autocorrelation_time,
)
from stdnet.stats.fits import (
                                FIT_ERRORS,
                                akaike,
                                akaike_weights,
                                changes_sign,
                                chi2_sf,
                                fit_free_power,
                                fit_offset_power,
                                fit_power_law,
                                model_value,
                                normal_quantile,
                                standard_errors,
)
from stdnet.stats.intervals import (
                                K_BATCH,
                                MAX_BATCHES,
                                MIN_BATCHES,
                                BatchMeansCI,
                                batch_means_ci,
                                block_ci,
                                fill_single_realization_se,
                                sample_mean,
)

__all__ = ["MIN_LENGTH", "SOKAL_C", "AutocorrelationTime", "autocorrelation",
           "decorrelation_time", "integrated_autocorrelation_time", "FIT_ERRORS", "akaike",
           "akaike_weights", "changes_sign", "chi2_sf", "fit_free_power", "fit_offset_power",
           "fit_power_law", "model_value", "normal_quantile", "standard_errors", "K_BATCH",
           "MAX_BATCHES", "MIN_BATCHES", "BatchMeansCI", "batch_means_ci", "block_ci",
           "fill_single_realization_se", "sample_mean"]
