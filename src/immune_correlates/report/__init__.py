"""The whole analysis as a report: configuration, pipeline, figures, HTML and outputs.

>>> import immune_correlates as ic
>>> from immune_correlates.report import make_report
>>> make_report(ic.datasets.load_ofa_len(), "report/")  # doctest: +SKIP
"""

from .build import make_report
from .config import AnalysisConfig, load_config
from .pipeline import AnalysisResults, run_analysis

__all__ = ["make_report", "AnalysisConfig", "load_config", "AnalysisResults", "run_analysis"]
