"""A reviewer's one-line breaks of the study's rules: each must make the module's targeted tests fail.

    python -m bench.rule_breaks              # every break; rows in results/bench.csv (benchmark rule_breaks)
    python -m bench.rule_breaks --only f8-threshold-2pct

Issue 19 listed eleven changes that a reviewer made to the study's rules, all of which the test suite once
let through (stage 02 ignoring ``calibrate_on``, a calibration set kept in the comparison, a scorecard
threshold moved, ...). Each is kept here as a patch (the exact text it replaces, in the module that holds the
rule), applied alone to a copy of the repository (``build/rule-breaks/``), and run against the module's
targeted test selection of ``bench/mutation/<module>.toml`` (the fast tests mutation testing uses; they are
part of ``make test``). A break is *caught* when those tests fail; the first failing test and its message are
printed, so a reader can check that it fails for the right reason (a wrong verdict, set or value). A patch
whose text is no longer in its module is reported as *stale* (``tests/test_mutants.py`` checks that none is).

Rows: case = the break's name, metric ``caught`` (1 or 0).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.common import make_rows, write_rows
from bench.mutants import REPO, copy_repository, environment, load_spec, test_selection

WORKSPACE = REPO / "build" / "rule-breaks"


@dataclass(frozen=True)
class RuleBreak:
    """One reviewer's change: in ``path`` (held by mutation module ``module``), ``old`` becomes ``new``."""

    name: str
    module: str
    path: str
    old: str
    new: str
    what: str


BREAKS = (
    RuleBreak("stage02-ignores-calibrate-on", "runner", "study/experiment/runner.py",
              "self._training[name] = self._transform(self.references(name))", "self._training[name] = self.docs",
              "every stage calibrates int8 (and trains codecs) on the evaluated corpus whatever calibrate_on says"),
    RuleBreak("calibration-set-stays-in-comparison", "comparison", "study/analysis/comparison.py",
              'REFERENCE_COLUMNS = ("fit_on", "calibrate_on")', 'REFERENCE_COLUMNS = ("fit_on",)',
              "a collection a format was calibrated on stays in the shared comparison set"),
    RuleBreak("reference-path-not-matched", "comparison", "study/analysis/comparison.py",
              "return os.path.basename(os.path.normpath(text))", "return text",
              "a fit_on/calibrate_on given as a path no longer matches its collection"),
    RuleBreak("rescoring-codec-trains-on-corpus", "runner", "study/experiment/runner.py",
              "yield rescore_sweep(first, data, view.docs, view.queries, view.training(first.calibrate_on), tiers, ms,",
              "yield rescore_sweep(first, data, view.docs, view.queries, view.docs, tiers, ms,",
              "the rescoring tier's codec trains on the evaluated corpus while its row names the fit set"),
    RuleBreak("select-prints-another-column", "tradeoff", "study/analysis/tradeoff.py",
              "{self.metric_label} {b.expected:.4f}", "{self.metric_label} {b.value:.4f}",
              "the expected nDCG@10 that study select prints is replaced by another column"),
    RuleBreak("f8-threshold-2pct", "scorecard", "study/analysis/scorecard.py",
              "FLOAT8_MAX_LOSS = 0.3", "FLOAT8_MAX_LOSS = 2.0", "claim 1's float8 threshold from 0.3 % to 2 %"),
    RuleBreak("binary-range-widened", "scorecard", "study/analysis/scorecard.py",
              "lo, hi = 7 - TOLERANCE_POINTS, 11 + TOLERANCE_POINTS",
              "lo, hi = 4 - TOLERANCE_POINTS, 14 + TOLERANCE_POINTS",
              "claim 1's binary range widened by 3 points on each side"),
    RuleBreak("codec-check-off", "scorecard", "study/analysis/scorecard.py",
              "codec = _codec_check(ctx, m)", "codec = None", "claim 4's today's-codecs check switched off"),
    RuleBreak("lossless-1pct", "scorecard", "study/analysis/scorecard.py",
              "LOSSLESS_PCT = 0.1", "LOSSLESS_PCT = 1.0", "'lossless' from < 0.1 % to < 1 %"),
    RuleBreak("32x-band-from-16x", "scorecard", "study/analysis/scorecard.py",
              '("32×", lambda r: 32 / 1.001 <= r', '("32×", lambda r: 16 / 1.001 <= r',
              "claim 4's 32× band starts at 16×"),
    RuleBreak("select-tie-break-reversed", "tradeoff", "study/analysis/tradeoff.py",
              'sort_values(["change_pct", "total_bytes", "label"], ascending=[False, True, True])',
              'sort_values(["change_pct", "total_bytes", "label"], ascending=[False, False, False])',
              "select prefers the larger (and later-named) of two equally good configurations"),
)


def occurrences(rule: RuleBreak, root: Path = REPO) -> int:
    """How often the break's text occurs in its module (1 when the patch applies)."""
    return (root / rule.path).read_text(encoding="utf-8").count(rule.old)


def failures(output: str) -> list[str]:
    """pytest's ``FAILED test - message`` summary lines."""
    return re.findall(r"^(?:FAILED|ERROR) .*$", output, flags=re.M)


def try_break(rule: RuleBreak, work: Path) -> tuple[bool, list[str]]:
    """Apply one break to the workspace, run its module's targeted tests, restore; (caught, failure lines)."""
    target = work / rule.path
    original = target.read_text(encoding="utf-8")
    if original.count(rule.old) != 1:
        return False, [f"stale: {rule.old!r} occurs {original.count(rule.old)} times in {rule.path}"]
    module = load_spec()[0][rule.module]
    target.write_text(original.replace(rule.old, rule.new), encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *test_selection(module), "-rfE"], cwd=work,
                              env=environment(), capture_output=True, text=True)
    finally:
        target.write_text(original, encoding="utf-8")
    return done.returncode == 1, failures(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=[], help="names of breaks to try (default: all)")
    parser.add_argument("--no-write", action="store_true", help="do not write results/bench.csv")
    args = parser.parse_args(argv)
    chosen = [b for b in BREAKS if not args.only or b.name in args.only]
    if len(chosen) < len(set(args.only)):
        names = ", ".join(b.name for b in BREAKS)
        raise SystemExit(f"parameter 'only': invalid value {args.only}; allowed: {names}")
    work = copy_repository(WORKSPACE)
    rows, missed = [], []
    for rule in chosen:
        caught, lines = try_break(rule, work)
        print(f"[rule-breaks] {rule.name} ({rule.what}): {'caught' if caught else 'NOT CAUGHT'}", flush=True)
        for line in lines[:3]:
            print(f"    {line}", flush=True)
        rows.append({"case": rule.name, "metric": "caught", "value": int(caught), "unit": "bool"})
        missed += [] if caught else [rule.name]
    if not args.no_write:
        write_rows(make_rows("rule_breaks", rows), only_cases=True)
    if missed:
        print(f"[rule-breaks] not caught: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
