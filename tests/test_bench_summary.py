"""docs/benchmarks.md's generated blocks are written from results/bench.csv rows (no number typed by hand) and
hold Markdown tables and short headings only: what a table means is the page's hand-written text."""

from __future__ import annotations

import re

import pandas as pd
from conftest import REPO

from bench import summary
from bench.common import make_rows, read_rows

TABLE_ROW = re.compile(r"^\|.*\|$")
HEADING = re.compile(r"^#### [^.!?]{1,80}$")  # a short label, no sentence


def rows() -> pd.DataFrame:
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
    return pd.concat([evaluator, encode, study], ignore_index=True)


def cells(block: str) -> list[list[str]]:
    """The cells of every table row of a block (the separator rows left out)."""
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()
            if TABLE_ROW.match(line) and not set(line) <= set("|:- ")]


def only_tables_and_headings(block: str) -> list[str]:
    """The lines of a generated block that are neither a table row, a short heading nor blank."""
    return [line for line in block.splitlines() if line.strip() and not TABLE_ROW.match(line)
            and not HEADING.match(line)]


def test_every_number_is_read_from_the_rows():
    blocks = summary.blocks(rows())
    assert ["minilm-l6", "scifact", "float32", "0.250", "10.00", "40", "4e-06"] in cells(blocks["evaluator"])
    assert ["12.5"] in cells(blocks["evaluator"])  # mteb's import, beside the table
    assert ["minilm-l6/cranfield/docs", "20.0", "19.0", "+5.3%", "3e-07"] in cells(blocks["encode"])
    assert ["profile=default", "", "13.0", "", "2"] in cells(blocks["study"])
    assert [row[:3] for row in cells(blocks["runs"])[1:]] == [["evaluator_vs_mteb", "`bench/evaluator.py`", "box"],
                                                              ["encode", "`bench/encode.py`", "box"],
                                                              ["study", "`bench/study_time.py`", "box"]]


def test_generated_blocks_hold_tables_and_headings_only():
    """Every block of the committed rows, and of the synthetic ones: no sentence comes back into a block."""
    for source in (rows(), read_rows(REPO / "results" / "bench.csv")):
        for name, block in summary.blocks(source).items():
            assert only_tables_and_headings(block) == [], name
    assert only_tables_and_headings("| a |\n\n#### A label\n") == []
    assert only_tables_and_headings("* **Scaling**: time grows as N^0.9.") != []
    assert only_tables_and_headings("#### Time grows linearly. It is fine") != []


def test_no_rows_leave_every_block_empty():
    assert set(summary.blocks(rows().iloc[0:0]).values()) == {""}


def test_the_committed_page_shows_the_committed_rows():
    """docs/benchmarks.md is up to date with results/bench.csv, and has markers for every section."""
    page = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    text, missing = summary.splice(page, summary.blocks(read_rows(REPO / "results" / "bench.csv")))
    assert missing == [] and text == page, "rerun `python -m bench.summary`"


def test_splice_replaces_only_between_markers_and_names_missing_sections():
    page = f"intro\n{summary.start_marker('encode')}\nold\n{summary.end_marker('encode')}\noutro\n"
    text, missing = summary.splice(page, {"encode": "| new |", "study": "| x |"})
    assert text == f"intro\n{summary.start_marker('encode')}\n\n| new |\n\n{summary.end_marker('encode')}\noutro\n"
    assert missing == ["study"]
    assert summary.splice(text, {"encode": ""})[0] == \
        f"intro\n{summary.start_marker('encode')}\n{summary.end_marker('encode')}\noutro\n"


def test_write_page_rewrites_the_blocks_and_reports_missing_markers(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# B\n{summary.start_marker('encode')}\n{summary.end_marker('encode')}\n")
    missing = summary.write_page(page, rows())
    assert "| minilm-l6/cranfield/docs |" in page.read_text() and "encode" not in missing and "evaluator" in missing


def test_mutation_table_shows_each_modules_score_and_the_modules_not_measured():
    mutants = make_rows("mutants", [{"case": case, "metric": m, "value": v, "unit": "mutants"}
                                    for case, values in (("comparison", (300, 280, 15, 5, 2, 94.59)),
                                                         ("stats", (100, 80, 20, 0, 0, 80.0)))
                                    for m, v in zip(("mutants", "killed", "survived", "no_tests", "equivalent",
                                                     "score_pct"), values)], machine="box")
    breaks = make_rows("rule_breaks", [{"case": "a", "metric": "caught", "value": 1, "unit": "bool"},
                                       {"case": "b", "metric": "caught", "value": 0, "unit": "bool"}], machine="box")
    blocks = summary.blocks(pd.concat([mutants, breaks], ignore_index=True))
    table = cells(blocks["mutants"])
    assert ["comparison", "300", "280", "15", "5", "2", "94.6"] in table and ["stats", "100", "80", "20", "0", "0",
                                                                             "80.0"] in table
    assert [row[0] for row in table[3:]] == ["codecs-stage", "configs", "evaluate", "runner", "scorecard", "tradeoff",
                                             "verdicts"]
    assert all(set(row[1:]) == {""} for row in table[3:])  # not measured: no counts
    assert cells(blocks["rule-breaks"])[1:] == [["a", "yes"], ["b", "no"]]


def test_the_opq_table_reads_each_collection_and_the_pooled_difference_last():
    def case(name: str, diff: float, low: float, high: float, seconds: bool = True) -> list[dict]:
        out = [{"case": name, "metric": m, "value": v, "unit": ""}
               for m, v in (("diff", diff), ("diff_ci_low", low), ("diff_ci_high", high))]
        return out + ([{"case": name, "metric": f"train_seconds {s}", "value": t, "unit": "s"}
                       for s, t in (("study", 12.0), ("faiss default", 61.0))] if seconds else [])

    rows = make_rows("opq_iterations", case("m/pooled:scifact/opq48", 0.004, -0.003, 0.012, seconds=False)
                     + case("m/scifact/opq48", 0.004, -0.013, 0.022), machine="box")
    table = cells(summary.blocks(rows)["opq"])
    assert table[1:] == [["m", "scifact", "opq48", "+0.0040", "-0.0130", "+0.0220", "12", "61"],
                         ["m", "pooled:scifact", "opq48", "+0.0040", "-0.0030", "+0.0120", "", ""]]



def test_the_advise_scale_tables_read_each_size_and_each_step():
    def run(n: int, wall: float, resumed: bool = False) -> list[dict]:
        case = f"n={n},d=768,queries=1000,threads=2" + (",resumed" if resumed else "")
        out = [{"case": case, "metric": m, "value": v, "unit": ""}
               for m, v in (("wall_seconds", wall), ("peak_rss_bytes", 3 * 2**30), ("configurations", 62),
                            ("computed", 40 if resumed else 62), ("load_avg_before", 1.5), ("load_avg_after", 2.25))]
        return out + [{"case": f"{case},step={s}", "metric": "seconds", "value": v, "unit": "s"}
                      for s, v in (("other", 30.0), ("OPQ", wall / 2), ("PCA", wall / 4))]

    rows = make_rows("advise_scale", run(1_000_000, 1500.0, resumed=True) + run(100_000, 240.0), machine="box")
    block = summary.blocks(rows)["advise-scale"]
    table = cells(block)
    assert table[1:3] == [["100,000", "2", "no", "4.0", "3.00", "62", "62", "1.5", "2.2"],
                          ["1,000,000", "2", "yes", "25.0", "3.00", "62", "40", "1.5", "2.2"]]
    assert table[3:] == [["step", "N=100,000 (s)", "N=1,000,000 (s)"], ["OPQ", "120", "750"], ["PCA", "60", "375"],
                         ["other", "30", "30"]]
    assert "#### Seconds per grid step" in block
