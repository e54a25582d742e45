"""Is ten rounds of OPQ enough? The study's OPQ (10 rounds, 10 k-means iterations in the first) against faiss'
defaults (50 rounds, 40 in the first), each trained on the corpus itself and searched as faiss searches it (float32
queries against the codes), on the same queries.

    python -m bench.opq_iterations [--model minilm-l6] [--datasets scifact nfcorpus cranfield] [--codec opq48]

Per collection and pooled (each query once): nDCG@10 of both, the paired difference (defaults − ours) with its 95 %
bootstrap CI (``study.analysis.stats``), and the training seconds of each (one thread). Rows go to
``results/bench.csv`` (benchmark ``opq_iterations``). Reads cached embeddings only.
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import numpy as np
import pandas as pd

from bench.common import make_rows, write_rows
from study.analysis import stats
from study.compress import codecs
from study.compress.formats import get_format
from study.experiment import evaluate as evaluate_module
from study.experiment.configs import Config, load_eval_data
from study.experiment.runner import one_thread

SETTINGS = {"study": (codecs.OPQ_ITERATIONS, codecs.OPQ_FIRST_PQ_ITERATIONS), "faiss default": (50, 40)}


def trained(codec: str, docs: np.ndarray, rounds: int, first: int) -> tuple[dict, float]:
    """The codec's parameters trained on ``docs`` with ``rounds`` OPQ rounds (``first`` k-means iterations in the
    first), and the seconds it took (fit cache bypassed: both settings are trained here)."""
    with mock.patch.object(codecs, "OPQ_ITERATIONS", rounds), \
            mock.patch.object(codecs, "OPQ_FIRST_PQ_ITERATIONS", first):
        start = time.perf_counter()
        params = get_format(codec).calibrate(docs)
        return params, time.perf_counter() - start


def scores(model: str, dataset: str, codec: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-query nDCG@10 of ``codec`` trained on the corpus with each setting (columns), and training seconds."""
    data = load_eval_data(model, dataset)
    cfg = Config(model, dataset, data.split, format=codec, calibrate_on="self", query_format="float32")
    columns, seconds = {}, {}
    for name, (rounds, first) in SETTINGS.items():
        with one_thread():
            params, seconds[name] = trained(codec, data.docs, rounds, first)
            with mock.patch.object(evaluate_module, "calibrate", lambda fmt, sample, p=params: p):
                _, per_query = evaluate_module.evaluate_format(cfg, data, data.docs, data.queries, data.docs, "bench")
        columns[name] = per_query.set_index("query_id").ndcg_at_10
    return pd.DataFrame(columns), seconds


def compared(frame: pd.DataFrame, n_resamples: int) -> dict[str, float]:
    return stats.paired_test(frame["faiss default"].to_numpy(), frame["study"].to_numpy(), n_resamples)


def difference(case: str, test: dict[str, float]) -> tuple[list[dict], str]:
    """The rows of a paired difference (faiss' defaults − the study's) and its text."""
    rows = [{"case": case, "metric": k, "value": test[k], "unit": "nDCG@10"} for k in ("diff", "diff_ci_low",
                                                                                      "diff_ci_high")]
    return rows, f"{test['diff']:+.4f} [{test['diff_ci_low']:+.4f}, {test['diff_ci_high']:+.4f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-l6")
    parser.add_argument("--datasets", nargs="+", default=["scifact", "nfcorpus", "cranfield"])
    parser.add_argument("--codec", default="opq48")
    parser.add_argument("--n-resamples", type=int, default=10_000)
    args = parser.parse_args(argv)
    measurements, frames = [], []
    for dataset in args.datasets:
        frame, seconds = scores(args.model, dataset, args.codec)
        frames.append(frame)
        case = f"{args.model}/{dataset}/{args.codec}"
        rows, text = difference(case, compared(frame, args.n_resamples))
        measurements += rows + [{"case": case, "metric": f"{metric} {name}", "value": value, "unit": unit}
                                for name in SETTINGS
                                for metric, value, unit in (("ndcg_at_10", frame[name].mean(), ""),
                                                            ("train_seconds", seconds[name], "s"))]
        print(f"{case}: ours {frame['study'].mean():.4f} ({seconds['study']:.0f} s), faiss' defaults "
              f"{frame['faiss default'].mean():.4f} ({seconds['faiss default']:.0f} s); difference {text}")
    pooled = pd.concat(frames, ignore_index=True)
    rows, text = difference(f"{args.model}/pooled:{'+'.join(args.datasets)}/{args.codec}",
                            compared(pooled, args.n_resamples))
    print(f"pooled ({len(pooled)} queries): difference {text}")
    write_rows(make_rows("opq_iterations", measurements + rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
