"""bench/opq_iterations: both OPQ settings trained on the corpus, scored on the same queries, compared with a CI."""

import pandas as pd
import pytest

from bench import opq_iterations
from bench.common import read_rows
from study.analysis import stats


def test_rounds_reach_faiss_and_the_difference_is_paired(cache_dir, output_dir, capsys):
    frame, seconds = opq_iterations.scores("wordllama-256", "time", "opq8")
    assert list(frame.columns) == ["study", "faiss default"] and set(seconds) == {"study", "faiss default"}
    assert frame.index.is_unique and frame.notna().all().all()
    assert not frame["study"].equals(frame["faiss default"])  # 10 rounds and 50 train different rotations
    assert opq_iterations.main(["--model", "wordllama-256", "--datasets", "time", "--codec", "opq8",
                                "--n-resamples", "200"]) == 0
    rows = read_rows().query("benchmark == 'opq_iterations'").set_index(["case", "metric"]).value
    diff = stats.paired_test(frame["faiss default"], frame["study"], 200)["diff"]
    assert rows["wordllama-256/time/opq8", "diff"] == pytest.approx(diff)
    assert rows["wordllama-256/time/opq8", "diff"] == pytest.approx(frame["faiss default"].mean()
                                                                     - frame["study"].mean())
    assert "pooled (" in capsys.readouterr().out
    assert isinstance(rows, pd.Series)


def test_the_settings_are_the_studys_and_faiss_defaults():
    import faiss

    from study.compress import codecs

    opq = faiss.OPQMatrix(16, 4)
    assert {"study": (codecs.OPQ_ITERATIONS, codecs.OPQ_FIRST_PQ_ITERATIONS),
                                       "faiss default": (opq.niter, opq.niter_pq_0)} == opq_iterations.SETTINGS
