"""Under CI a skipped test fails (``tests/ci_rule.py``); elsewhere it skips. Proved on a generated test file run
by pytest itself (pytester), with ``CI`` set to each kind of value."""

from __future__ import annotations

import pytest
from ci_rule import ci_is_true

SKIPPING = '''
import pytest

@pytest.mark.skipif(True, reason="no latexmk here")
def test_marker():
    pass

def test_in_the_body():
    pytest.skip("no chromium here")

@pytest.fixture()
def tool():
    pytest.skip("no tool here")

def test_in_a_fixture(tool):
    pass

def test_importorskip():
    pytest.importorskip("no_such_module_for_the_ci_rule")

@pytest.mark.xfail(reason="known", run=False)
def test_xfail_is_not_a_skip():
    pass

def test_passes():
    pass
'''
MODULE_SKIP = 'import pytest\npytest.skip("no x86-64 here", allow_module_level=True)\n'
TRUE = ["true", "TRUE", "True", "1", "yes", "Yes", " true "]
FALSE = ["false", "False", "FALSE", "0", "no", "NO", "", None]


def run_generated(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
                  ) -> pytest.RunResult:
    """pytest with the ci_rule plugin on the generated files, ``CI`` set to ``ci`` (unset for None)."""
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_skipping=SKIPPING, test_module_skip=MODULE_SKIP)
    return pytester.runpytest("-p", "ci_rule", "-rA", "--continue-on-collection-errors")


@pytest.mark.parametrize("ci", TRUE)
def test_under_ci_every_skip_fails_with_its_reason(pytester, monkeypatch, ci):
    result = run_generated(pytester, monkeypatch, ci)
    result.assert_outcomes(failed=4, errors=1, passed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for reason in ("no latexmk here", "no chromium here", "no tool here", "no_such_module_for_the_ci_rule",
                   "no x86-64 here"):
        result.stdout.fnmatch_lines([f"*skipped under CI (CI=*), where every test must run*{reason}*"])


@pytest.mark.parametrize("ci", FALSE)
def test_elsewhere_a_skip_stays_a_skip(pytester, monkeypatch, ci):
    result = run_generated(pytester, monkeypatch, ci)
    result.assert_outcomes(skipped=5, passed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "skipped under CI" not in result.stdout.str()


@pytest.mark.parametrize(("value", "expected"), [(v, True) for v in TRUE] + [(v, False) for v in FALSE])
def test_ci_is_true(value, expected):
    assert ci_is_true({} if value is None else {"CI": value}) is expected


def test_the_suite_runs_under_the_rule(request):
    assert request.config.pluginmanager.has_plugin("ci_rule")
