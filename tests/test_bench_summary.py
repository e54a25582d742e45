"""The README's benchmark block is written from results/bench.csv rows (no number typed by hand)."""

from __future__ import annotations

from bench import summary
from bench.common import make_rows


def rows():
    evaluator = make_rows("evaluator_vs_mteb", [
        {"case": "minilm-l6/scifact/float32", "metric": m, "value": v, "unit": "s"}
        for m, v in (("ours_seconds", 0.25), ("mteb_seconds", 10.0), ("speedup", 40.0),
                     ("abs_delta_ndcg_at_10", 4e-6))] + [
        {"case": "mteb", "metric": "import_seconds", "value": 12.5, "unit": "s"}], machine="box")
    encode = make_rows("encode", [{"case": "minilm-l6/cranfield/docs", "metric": m, "value": v, "unit": "x"}
                                  for m, v in (("raw_docs_per_second", 20.0), ("study_docs_per_second", 19.0),
                                               ("overhead", 0.0526), ("max_abs_difference", 3e-7))], machine="box")
    study = make_rows("study", [{"case": "profile=default", "metric": "cold_seconds", "value": 780.0, "unit": "s"},
                                {"case": "profile=default", "metric": "warm_seconds", "value": 2.0, "unit": "s"}],
                      machine="box")
    import pandas as pd

    return pd.concat([evaluator, encode, study], ignore_index=True)


def test_summary_reads_every_number_from_the_rows(monkeypatch):
    monkeypatch.setattr(summary, "scaling_lines", lambda: [])
    monkeypatch.setattr(summary, "pool_lines", lambda: [])
    text = summary.summary(rows())
    assert "40–40× faster" in text and "12.5 s to import mteb" in text and "4e-06" in text
    assert "20.0 docs/s" in text and "19.0" in text and "+5.3%" in text
    assert "cold 13.0 min (target: 13 min), warm 2 s" in text
    assert "box" in text


def test_summary_of_no_rows_says_how_to_run(monkeypatch):
    monkeypatch.setattr(summary, "scaling_lines", lambda: [])
    monkeypatch.setattr(summary, "pool_lines", lambda: [])
    assert "make bench" in summary.summary(rows().iloc[0:0])


def test_mutation_lines_show_each_modules_score_and_the_rule_breaks_caught():
    mutants = make_rows("mutants", [{"case": case, "metric": m, "value": v, "unit": "mutants"}
                                    for case, values in (("comparison", (300, 280, 15, 5, 2, 94.59)),
                                                         ("stats", (100, 80, 20, 0, 0, 80.0)))
                                    for m, v in zip(("mutants", "killed", "survived", "no_tests", "equivalent",
                                                     "score_pct"), values)], machine="box")
    breaks = make_rows("rule_breaks", [{"case": "a", "metric": "caught", "value": 1, "unit": "bool"},
                                       {"case": "b", "metric": "caught", "value": 0, "unit": "bool"}], machine="box")
    import pandas as pd

    text = "\n".join(summary.mutation_lines(pd.concat([mutants, breaks], ignore_index=True)))
    assert "below the 90 % goal: stats; not measured yet: codecs-stage, configs, evaluate, runner, scorecard, " \
        "tradeoff, verdicts." in text
    assert "| comparison |       300 |      280 |" in text and "94.6 %" in text and "80.0 %" in text
    assert "1 of 2 caught by their module's targeted tests; not caught: b." in text


def test_the_opq_line_reads_each_collection_and_the_pooled_difference():
    import pandas as pd

    def case(name: str, diff: float, low: float, high: float, seconds: bool = True) -> list[dict]:
        out = [{"case": name, "metric": m, "value": v, "unit": ""}
               for m, v in (("diff", diff), ("diff_ci_low", low), ("diff_ci_high", high))]
        return out + ([{"case": name, "metric": f"train_seconds {s}", "value": t, "unit": "s"}
                       for s, t in (("study", 12.0), ("faiss default", 61.0))] if seconds else [])

    rows = make_rows("opq_iterations", case("m/scifact/opq48", 0.004, -0.013, 0.022)
                     + case("m/pooled:scifact/opq48", 0.004, -0.003, 0.012, seconds=False), machine="box")
    line = summary.opq_iterations_lines(pd.concat([rows], ignore_index=True))[0]
    assert "scifact +0.0040 [-0.0130, +0.0220] (training 12 s vs 61 s)" in line
    assert "pooled +0.0040 [-0.0030, +0.0120], within noise" in line
    outside = make_rows("opq_iterations", case("m/pooled:scifact/opq48", 0.01, 0.002, 0.02, seconds=False)
                        + case("m/scifact/opq48", 0.01, 0.002, 0.02), machine="box")
    assert summary.opq_iterations_lines(outside)[0].endswith("outside noise.")
