"""Encoding throughput: the study's cached, chunked encode path against a plain sentence-transformers ``encode``.

    python -m bench.encode                                # MiniLM on cranfield (1,400 abstracts)
    python -m bench.encode --dataset cisi --model minilm-l6 --repeats 2

Both paths get the same documents and the same already-loaded model (loading is timed apart). The raw path is
what a user would write: ``SentenceTransformer.encode(texts, batch_size=32)`` then L2-normalisation. The study's
path is ``embeddings.load_embeddings`` into an empty temporary cache: length-sorted chunks, each saved
atomically with a sha256 sidecar, then assembled into one memory-mapped array with a manifest. The overhead of
the study's bookkeeping is ``study_s / raw_s - 1`` (target: within 10 %). Rows of benchmark ``encode`` go to
``results/bench.csv``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from bench.common import make_rows, write_rows
from study.data.datasets import load_collection
from study.encoders.cache import load_embeddings, role_texts
from study.encoders.registry import load_encoder, normalise

BENCHMARK = "encode"


def raw_sentence_transformers(model, texts: list[str]) -> np.ndarray:
    """What a user would write without the study: one ``encode`` call, then L2-normalise."""
    return normalise(model.encode(texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True))


def study_path(model_name: str, collection, encoder) -> np.ndarray:
    """The study's encode into an empty cache (``STUDY_CACHE_DIR`` points at a fresh temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="bench-encode-") as tmp:
        previous = os.environ.get("STUDY_CACHE_DIR")
        os.environ["STUDY_CACHE_DIR"] = tmp
        try:
            return np.array(load_embeddings(model_name, collection, "docs", encoder=encoder).vectors)
        finally:
            if previous is None:
                os.environ.pop("STUDY_CACHE_DIR", None)
            else:
                os.environ["STUDY_CACHE_DIR"] = previous


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cranfield")
    parser.add_argument("--model", default="minilm-l6")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each path; medians reported")
    args = parser.parse_args(argv)

    collection = load_collection(args.dataset)
    _, texts = role_texts(collection, "docs")
    load_s, encoder = _timed(lambda: load_encoder(args.model))
    st_model = encoder.backend
    if st_model is None:
        parser.error(f"model {args.model!r} has no sentence-transformers backend to compare with")
    prompted = [encoder.spec.doc_prompt + t for t in texts]  # the model's document prompt, as the study adds it
    raw_times, study_times = [], []
    raw = ours = None
    for _ in range(args.repeats):  # alternate so drifting machine load hits both paths alike
        t, raw = _timed(lambda: raw_sentence_transformers(st_model, prompted))
        raw_times.append(t)
        t, ours = _timed(lambda: study_path(args.model, collection, encoder))
        study_times.append(t)
    raw_s, study_s = float(np.median(raw_times)), float(np.median(study_times))
    # The study encodes in length-sorted chunks, so padding differs from one big call: rows agree to float noise.
    max_abs = float(np.abs(ours - raw).max())
    overhead = study_s / raw_s - 1
    print(f"{args.model} on {args.dataset} ({len(texts)} docs): model load {load_s:.1f} s | raw "
          f"sentence-transformers {raw_s:.1f} s ({len(texts) / raw_s:.1f} docs/s) | study path {study_s:.1f} s "
          f"({len(texts) / study_s:.1f} docs/s) | overhead {overhead:+.1%} | max |Δ| {max_abs:.1e}")
    case = f"{args.model}/{args.dataset}/docs"
    rows = [
        {"case": case, "metric": "model_load_seconds", "value": load_s, "unit": "s"},
        {"case": case, "metric": "raw_seconds", "value": raw_s, "unit": "s"},
        {"case": case, "metric": "study_seconds", "value": study_s, "unit": "s"},
        {"case": case, "metric": "raw_docs_per_second", "value": len(texts) / raw_s, "unit": "docs/s"},
        {"case": case, "metric": "study_docs_per_second", "value": len(texts) / study_s, "unit": "docs/s"},
        {"case": case, "metric": "overhead", "value": overhead, "unit": "fraction"},
        {"case": case, "metric": "max_abs_difference", "value": max_abs, "unit": "cosine units"},
    ]
    write_rows(make_rows(BENCHMARK, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
