"""Modelling transforms: log2 with offset, per-SD scaling, median/tertile/cutpoint splits."""

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import DataQualityWarning, InputError, ParameterError
from immune_correlates.features import (
    dichotomise,
    log2_features,
    log2_transform,
    scale_per_sd,
)


def test_log2_adds_the_offset_and_keeps_nan():
    s = pd.Series([0.0, 3.0, 1023.0, np.nan], index=list("abcd"), name="cd3_per_ul")
    out = log2_transform(s)
    # log2(0 + 1) = 0; log2(3 + 1) = 2; log2(1023 + 1) = 10
    assert out.iloc[:3].tolist() == [0.0, 2.0, 10.0] and np.isnan(out["d"])
    assert list(out.index) == list("abcd") and out.name == "cd3_per_ul"
    assert log2_transform([8.0], offset=0).tolist() == [3.0]
    assert s.iloc[0] == 0.0  # input untouched


def test_log2_of_non_positive_shifted_value_is_an_input_error():
    with pytest.raises(InputError, match="offset"):
        log2_transform(pd.Series([0.5, -2.0], name="x"))


def test_log2_features_adds_prefixed_columns_with_per_column_offsets():
    df = pd.DataFrame({"a": [1.0, 7.0], "r": [0.5, 2.0]})
    out = log2_features(df, offset={"r": 0.0})
    # a: log2(2) = 1, log2(8) = 3; r: log2(0.5) = -1, log2(2) = 1
    assert out["log2_a"].tolist() == [1.0, 3.0] and out["log2_r"].tolist() == [-1.0, 1.0]
    assert list(df.columns) == ["a", "r"]


def test_scale_per_sd_uses_sample_sd():
    out = scale_per_sd(pd.Series([2.0, 4.0, 6.0, np.nan]))
    # mean 4, sd = sqrt((4 + 0 + 4) / 2) = 2
    assert out.iloc[:3].tolist() == [-1.0, 0.0, 1.0] and np.isnan(out.iloc[3])
    assert scale_per_sd([2.0, 4.0, 6.0], center=False).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match="SD 0.0"):
        scale_per_sd([1.0, 1.0])
    with pytest.warns(DataQualityWarning, match="fewer than 2"):
        assert scale_per_sd([np.nan, 3.0]).isna().all()


def test_median_split_puts_ties_in_the_lower_group():
    out = dichotomise(pd.Series([5.0, 1.0, 3.0, np.nan, 3.0]))
    # median of 5, 1, 3, 3 = 3: values <= 3 are 0
    assert out.iloc[[0, 1, 2, 4]].tolist() == [1.0, 0.0, 0.0, 0.0] and np.isnan(out.iloc[3])


def test_tertiles_use_type7_quantiles():
    out = dichotomise(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan]), "tertiles")
    # q(1/3) = 1 + 5/3 = 2.667, q(2/3) = 1 + 10/3 = 4.333
    assert out.astype(object).iloc[:6].tolist() == ["low", "low", "mid", "mid", "high", "high"]
    assert pd.isna(out.iloc[6]) and out.cat.ordered


def test_user_cutpoints_single_and_multiple():
    s = pd.Series([10.0, 20.0, 30.0, 40.0])
    assert dichotomise(s, 20.0).tolist() == [0.0, 0.0, 1.0, 1.0]
    out = dichotomise(s, [15.0, 30.0], labels=["a", "b", "c"])
    assert out.astype(object).tolist() == ["a", "b", "b", "c"]
    with pytest.raises(ParameterError, match="finite and increasing"):
        dichotomise(s, [30.0, 15.0])
    with pytest.raises(
        ParameterError,
        match=r"dichotomise: method='quartiles' is not allowed; method must be one of "
        r"'median', 'tertiles' or a number or a sequence of cutpoints",
    ):
        dichotomise(s, "quartiles")
