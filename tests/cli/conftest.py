"""One ``demo`` run shared by every command-line test of the session."""

from __future__ import annotations

import pytest

from immune_correlates.cli import main


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """The bundled cohort's full report, written once per test session."""
    out = tmp_path_factory.mktemp("demo") / "report"
    assert main(["demo", "--out", str(out)]) == 0
    return out
