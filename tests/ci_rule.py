"""Under CI no test passes by being skipped: a pytest plugin (loaded by ``tests/conftest.py``).

A test that skips because something is missing here (LaTeX, Chromium, an x86-64 processor, ...) would be
reported as a pass by CI although nothing was checked. Where ``CI`` is true (``ci_is_true``), every skip,
however raised (``skipif``, ``pytest.skip`` in a test, fixture or module, ``importorskip``), is reported as
a failure naming the reason; elsewhere it stays a skip. ``xfail`` is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

FALSE = ("", "0", "false", "no", "off")
MARK = "skipped_under_ci"  # a user property of the reports this plugin failed


def ci_is_true(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``CI`` is set to a true value: unset, empty, ``0``, ``false``, ``no``, ``off`` (any case) are
    false; any other value (``true``, ``1``, ``yes``, ...) is true, so an unusual value never skips a test."""
    return environ.get("CI", "").strip().lower() not in FALSE


def _fail_if_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skipped (not xfail) report into a failure under CI, keeping the skip's reason."""
    if not (report.skipped and ci_is_true()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI (CI={os.environ['CI']!r}), where every test must run: {reason}"
    if isinstance(report, pytest.TestReport):
        report.user_properties.append((MARK, True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    _fail_if_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report = yield
    _fail_if_ci(report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """A skip failed under CI counts as failed, not as a setup error."""
    if report.failed and dict(getattr(report, "user_properties", ())).get(MARK):
        return "failed", "F", "FAILED"
    return None
