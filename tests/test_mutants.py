"""The mutation-score benchmark (bench/mutants.py) and the reviewer's rule breaks (bench/rule_breaks.py):
what counts, how equivalents and stale entries are scored, and that every spec still matches the code."""

from __future__ import annotations

import ast
import tomllib

import pytest
from conftest import REPO

from bench import mutants, rule_breaks
from bench.mutants import Equivalent, Module

CODECS = Module("codecs-stage", "study/plans/codecs.py", ("tests/test_stage_codecs.py",), ("_plan", "plan"))


def test_only_the_modules_mutants_and_the_listed_functions_count():
    assert CODECS.dotted == "study.plans.codecs"
    assert CODECS.counts("study.plans.codecs.x__plan__mutmut_3")
    assert CODECS.counts("study.plans.codecs.x_plan__mutmut_12")
    assert not CODECS.counts("study.plans.codecs.x_summarise__mutmut_1")
    assert not CODECS.counts("study.plans.codecs.x_plan_again__mutmut_1")
    assert not CODECS.counts("study.stages.codecs_extra.x__plan__mutmut_1")
    whole = Module("comparison", "study/analysis/comparison.py", ("tests/test_comparison.py",))
    assert whole.counts("study.analysis.comparison.xǁCollectionSetǁdescribe__mutmut_2")
    assert not whole.counts("study.analysis.scorecard.x_verdict__mutmut_1")


def test_a_workspace_config_names_one_file_and_the_targeted_tests():
    module = Module("m", "study/analysis/stats.py", ("tests/test_stats.py",), deselect="notebook")
    config = tomllib.loads(mutants.mutmut_config(module))["tool"]["mutmut"]
    assert config["only_mutate"] == ["study/analysis/stats.py"]
    assert config["pytest_add_cli_args_test_selection"][0] == "tests/test_stats.py"
    assert config["pytest_add_cli_args_test_selection"][-2:] == ["-k", "not (notebook)"]
    assert config["use_git_change_detection"] is False


def _fake_run(monkeypatch, found: dict[str, str], diffs: dict[str, str]) -> None:
    monkeypatch.setattr(mutants, "statuses", lambda work, module: found)
    monkeypatch.setattr(mutants, "diff", lambda work, name: diffs[name])


def test_score_is_killed_over_mutants_less_reviewed_equivalents(monkeypatch):
    found = {"a": "killed", "b": "killed", "c": "timeout", "d": "survived", "e": "survived", "f": "no tests"}
    _fake_run(monkeypatch, found, {"d": "-    x = 1\n+    x = 2\n", "e": "+    y = None\n"})
    result, stale = mutants.score(REPO, CODECS, {"d": Equivalent("d", "x = 2", "never read")})
    assert stale == []
    assert result == {"mutants": 6, "killed": 3, "survived": 2, "equivalent": 1, "no_tests": 1, "timeout": 1,
                      "score_pct": 60.0}


def test_an_equivalence_entry_whose_line_no_longer_matches_is_stale_and_does_not_count(monkeypatch):
    _fake_run(monkeypatch, {"d": "survived", "k": "killed"}, {"d": "+    x = 3\n"})
    result, stale = mutants.score(REPO, CODECS, {"d": Equivalent("d", "x = 2", "never read")})
    assert result["equivalent"] == 0 and result["score_pct"] == 50.0
    assert len(stale) == 1 and stale[0].startswith("d: listed as equivalent")


def test_changed_lines_are_the_added_lines_of_a_diff():
    text = "--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-    a = 1\n+    a = 2\n"
    assert mutants.changed_lines(text) == ["a = 2"]


def _functions(path: str) -> set[str]:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("name", sorted(p.stem for p in mutants.SPECS.glob("*.toml")))
def test_every_module_spec_names_real_files_and_functions(name):
    module = mutants.load_spec()[0][name]
    assert (REPO / module.path).is_file()
    assert all((REPO / t).is_file() for t in module.tests), module.tests
    assert set(module.functions) <= _functions(module.path)


def test_every_listed_equivalent_belongs_to_a_module_and_gives_a_reason():
    modules, equivalents = mutants.load_spec()
    for entry in equivalents.values():
        assert any(m.counts(entry.mutant) for m in modules.values()), entry.mutant
        assert entry.line.strip() and len(entry.reason) > 20, entry


@pytest.mark.parametrize("rule", rule_breaks.BREAKS, ids=lambda r: r.name)
def test_every_rule_break_still_applies_to_its_module(rule):
    """A refactor that moves a rule must move its break too, or the benchmark would test nothing."""
    assert rule_breaks.occurrences(rule) == 1
    assert rule.old != rule.new
    assert rule.module in mutants.load_spec()[0]
    assert mutants.load_spec()[0][rule.module].path == rule.path


def test_failure_lines_are_read_from_pytests_summary():
    out = "....F\nFAILED tests/test_x.py::test_y - AssertionError: holds != fails\nERROR tests/t.py - boom\n1 failed"
    assert rule_breaks.failures(out) == ["FAILED tests/test_x.py::test_y - AssertionError: holds != fails",
                                         "ERROR tests/t.py - boom"]


def test_a_sampled_score_carries_the_wilson_interval():
    low, high = mutants.wilson(45, 50)
    assert round(low, 1) == 78.6 and round(high, 1) == 95.7
    assert mutants.wilson(50, 50)[1] == 100.0
