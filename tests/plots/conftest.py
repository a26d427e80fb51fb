"""Fixtures for the plot tests: the cohort's analysis frame, figures closed after each test."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pytest

import immune_correlates as ic


@pytest.fixture(scope="session")
def frame(ofa_len):
    """``analysis_frame`` of the bundled cohort (endpoints and features)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.analysis_frame(ofa_len)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(ax, gid, kind=None):
    """Artists of ``ax`` (lines, collections, patches, texts) with this gid."""
    pools = {"lines": ax.lines, "collections": ax.collections, "patches": ax.patches, "texts": ax.texts}
    found = [a for name, pool in pools.items() if kind in (None, name) for a in pool if a.get_gid() == gid]
    return found
