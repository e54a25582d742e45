"""Faults and bad input: killed jobs, concurrent jobs, damaged caches, bad parameters, bad data, no network.

Decisions this file pins down (and documents):
* A vector with a NaN or inf component (e.g. a format that overflowed) is treated like an all-zero
  vector by ``normalise`` (next point): cosine is undefined for it. A NaN score that still reaches
  the top-k (it cannot from normalised vectors) would count as -inf. Nothing crashes; per-query
  metrics stay finite.
* An all-zero vector (e.g. after float4's unscaled cast) has cosine 0 with everything: it is scored
  as 0, not NaN, and counted in ``SearchResult.zero_queries`` / ``zero_docs``.
* A query without any relevant judged document (only score-0 lines, or judgments naming unknown
  documents) is not evaluated, as in trec_eval and MTEB: nDCG is undefined without an ideal ranking.
  Judgments naming unknown documents are dropped, counted in ``Collection.problems`` and logged.
"""

from __future__ import annotations

import ast
import functools
import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import HANG_GUARD_S, REPO, wait_until

from study.compress.formats import round_trip
from study.core.errors import DatasetError
from study.data.datasets import load_collection
from study.encoders import cache as embeddings
from study.encoders.registry import MODELS, Encoder, load_encoder, normalise
from study.search.exact import evaluate

# ---------------------------------------------------------------------------------------------------
# Encoding in separate processes: kill -9 and resume; two processes on one entry. No sleep decides anything:
# the child stops at a chosen chunk and says so (a marker file), the test acts on that, then lets it go on.

ENCODE = r"""
import functools, json, logging, pathlib, sys, time, zlib
import numpy as np
from study.data.datasets import load_collection
from study.encoders.cache import load_embeddings
from study.encoders.registry import load_encoder

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
name, kind, roles, pause_after = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
control = pathlib.Path(sys.argv[5])
calls = {"docs": 0, "queries": 0}


def fake(texts, role):  # deterministic stand-in for a model: a hash of each text -> a unit vector
    rows = [np.random.default_rng(zlib.crc32(t.encode())).standard_normal(384) for t in texts]
    rows = np.stack(rows).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class Pausing:
    # Counts encode calls (one per chunk); the docs call after pause_after chunks writes control/paused and
    # waits for control/release (pause_after < 0: never), so a test can act mid-encode at a known chunk.
    def __init__(self, inner):
        self.inner = inner

    def encode(self, texts, role):
        calls[role] += 1
        if role == "docs" and calls[role] == pause_after + 1:
            (control / "paused").touch()
            while not (control / "release").exists():
                time.sleep(0.01)
        return self.inner.encode(texts, role) if self.inner else fake(texts, role)


encoder = functools.cache(lambda: Pausing(load_encoder("minilm-l6") if kind == "real" else None))
collection = load_collection(name)
sha = {role: load_embeddings("minilm-l6", collection, role, encoder=encoder).manifest["sha256"]
       for role in roles}
print(json.dumps({"calls": calls, "sha256": sha}))
"""
CHUNK = 8  # texts per chunk in these tests (adi: 82 docs -> 11 chunks, 35 queries -> 5 chunks)
N_CHUNKS = math.ceil(82 / CHUNK)


def encode_env(cache: Path) -> dict[str, str]:
    return os.environ | {"STUDY_CACHE_DIR": str(cache), "STUDY_CHUNK_SIZE": str(CHUNK), "HF_HUB_OFFLINE": "1",
                         "TRANSFORMERS_OFFLINE": "1"}


class EncodeJob:
    """``ENCODE`` on adi in a child process, its stderr in ``control/stderr.txt``; with ``pause_after`` = n ≥ 0 it
    stops before its (n+1)-th docs chunk (n chunks complete) until ``release``."""

    def __init__(self, cache: Path, kind: str, control: Path, roles: str = "docs,queries", pause_after: int = -1):
        control.mkdir(parents=True)
        self.control, self.stderr = control, control / "stderr.txt"
        with self.stderr.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", ENCODE, "adi", kind, roles, str(pause_after), str(control)],
                env=encode_env(cache), stdout=subprocess.PIPE, stderr=err, text=True)

    def log(self) -> str:
        return self.stderr.read_text()

    def wait_for(self, ready: Callable[[], bool], what: str) -> None:
        """Wait until ``ready()`` while the child runs (its exit first is a failure)."""
        def running_and_ready() -> bool:
            assert self.proc.poll() is None, f"exited before {what}: {self.log()[-3000:]}"
            return ready()
        wait_until(running_and_ready, what)

    def wait_paused(self) -> None:
        self.wait_for((self.control / "paused").exists, "the encode stopped at its chunk")

    def release(self) -> None:
        (self.control / "release").touch()

    def finish(self) -> tuple[dict, str]:
        out, _ = self.proc.communicate(timeout=HANG_GUARD_S)
        assert self.proc.returncode == 0, self.log()[-3000:]
        return json.loads(out.strip().splitlines()[-1]), self.log()


def entry(cache: Path, name: str = "adi") -> Path:
    return next((cache / "embeddings/minilm-l6").glob(f"{name}-*"))


def test_kill_9_during_encoding_resumes_from_finished_chunks_and_equals_an_uninterrupted_run(tmp_path):
    cache, reference = tmp_path / "cache", tmp_path / "reference"
    job = EncodeJob(cache, "real", tmp_path / "killed", pause_after=3)
    job.wait_paused()  # three docs chunks complete, the fourth being encoded
    job.proc.send_signal(signal.SIGKILL)
    job.proc.wait()
    docs = entry(cache) / "docs"
    assert not (docs / "vectors.npy").exists()
    assert len(list((docs / "chunks").glob("chunk-*.npy.sha256"))) == 3

    resumed, log = EncodeJob(cache, "real", tmp_path / "resumed").finish()
    assert resumed["calls"]["docs"] == N_CHUNKS - 3  # only the missing chunks were encoded
    uninterrupted, _ = EncodeJob(reference, "real", tmp_path / "reference-run").finish()
    assert uninterrupted["calls"]["docs"] == N_CHUNKS
    assert resumed["sha256"] == uninterrupted["sha256"]
    for role in ("docs", "queries"):
        ours, theirs = (entry(c) / role / "vectors.npy" for c in (cache, reference))
        assert ours.read_bytes() == theirs.read_bytes()
    assert not (docs / "chunks").exists()


def test_two_processes_encoding_one_entry_share_the_work_through_the_lock(tmp_path):
    """The first takes the lock and stops in its first chunk; the second, started then, finds the lock held and
    waits; let go, the first encodes every chunk and the second reads the finished entry."""
    cache = tmp_path / "cache"
    first = EncodeJob(cache, "fake", tmp_path / "first", roles="docs", pause_after=0)
    first.wait_paused()
    second = EncodeJob(cache, "fake", tmp_path / "second", roles="docs")
    second.wait_for(lambda: "another process holds the lock" in second.log(), "the second process waits")
    first.release()
    (a, _), (b, _) = first.finish(), second.finish()
    assert (a["calls"]["docs"], b["calls"]["docs"]) == (N_CHUNKS, 0)  # every chunk encoded once, by the first
    assert a["sha256"] == b["sha256"]


def test_chunk_size_from_the_environment_is_validated():
    env = os.environ | {"STUDY_CHUNK_SIZE": "lots"}
    done = subprocess.run([sys.executable, "-c", "import study.encoders.cache"], env=env, capture_output=True,
                          text=True)
    assert done.returncode != 0 and "parameter 'STUDY_CHUNK_SIZE'" in done.stderr


# ---------------------------------------------------------------------------------------------------
# Damaged cache files: detected, rebuilt with a warning, never used


@functools.cache
def _minilm() -> Encoder:
    return load_encoder("minilm-l6")


@pytest.fixture()
def adi_entry(tiny_embeddings, cache_dir, tmp_path, monkeypatch):
    """A private copy of the session cache's adi entry (so damaging it harms no other test)."""
    source = entry(cache_dir)
    copy = tmp_path / "cache/embeddings/minilm-l6" / source.name
    shutil.copytree(source, copy)
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    return copy


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1000:-990] = bytes(b ^ 0xFF for b in data[-1000:-990])
    path.write_bytes(bytes(data))


def _garble(path: Path) -> None:
    path.write_text('{"model": "minilm-l6", "cou')


@pytest.mark.parametrize(("damage", "file", "why"), [
    (_truncate, "vectors.npy", "truncated"),
    (_flip_bytes, "vectors.npy", "checksum mismatch"),
    (_garble, "manifest.json", "unreadable manifest"),
], ids=["truncated", "same-size-corruption", "garbled-manifest"])
def test_a_damaged_cache_file_is_detected_and_rebuilt_with_a_warning(adi_entry, damage, file, why, caplog):
    original = (adi_entry / "docs/vectors.npy").read_bytes()
    damage(adi_entry / "docs" / file)
    with caplog.at_level(logging.WARNING, logger="study.encoders.cache"):
        rebuilt = embeddings.load_embeddings("minilm-l6", load_collection("adi"), "docs", encoder=_minilm)
    assert any("rebuilding embedding cache" in r.message and why in r.message for r in caplog.records)
    assert (adi_entry / "docs/vectors.npy").read_bytes() == original  # re-encoded, identical
    assert np.array_equal(rebuilt.vectors, np.load(adi_entry / "docs/vectors.npy"))


class FlakyEncoder(Encoder):
    """Deterministic fake model that can be told to fail after some chunks (an interrupted job)."""

    def __init__(self, fail_after: int | None = None):
        super().__init__(MODELS["minilm-l6"], self._fake, model_id="fake")
        self.calls, self.fail_after = 0, fail_after

    def _fake(self, texts):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("interrupted")
        self.calls += 1
        return np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(384) for t in texts])


def test_a_damaged_chunk_is_encoded_again_never_reused(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(embeddings, "CHUNK_SIZE", 16)
    adi = load_collection("adi")
    with pytest.raises(RuntimeError, match="interrupted"):
        embeddings.load_embeddings("minilm-l6", adi, "docs", encoder=FlakyEncoder(fail_after=3))
    chunks = embeddings.cache_dir("minilm-l6", adi, "docs") / "chunks"
    assert len(list(chunks.glob("chunk-*.npy.sha256"))) == 3
    _flip_bytes(chunks / "chunk-000000016.npy")  # same size, still loads, wrong numbers

    encoder = FlakyEncoder()
    with caplog.at_level(logging.WARNING, logger="study.encoders.cache"):
        got = embeddings.load_embeddings("minilm-l6", adi, "docs", encoder=encoder)
    assert any("chunk-000000016.npy: damaged" in r.message for r in caplog.records)
    assert encoder.calls == math.ceil(82 / 16) - 2  # the two intact chunks were reused
    expected = normalise(FlakyEncoder()._fake(adi.doc_texts).astype(np.float32))
    assert np.array_equal(got.vectors, expected)


# ---------------------------------------------------------------------------------------------------
# Bad data


def write_beir(folder: Path, corpus: list[str], queries: list[dict], qrels: list[str]) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(line + "\n" for line in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels/test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(r + "\n" for r in qrels))
    return folder


DOCS = [json.dumps({"_id": f"d{i}", "title": "", "text": f"document {i}"}) for i in range(6)]
QUERIES = [{"_id": f"q{i}", "text": f"query {i}"} for i in range(4)]


def test_a_malformed_jsonl_line_is_one_clear_error_line_from_the_cli(tmp_path):
    folder = write_beir(tmp_path / "bad", [DOCS[0], '{"_id": "d1", "text": "unterminated', DOCS[2]], QUERIES,
                        ["q0\td0\t1"])
    with pytest.raises(DatasetError, match=r"corpus.jsonl:2: malformed JSON line"):
        load_collection(folder)
    done = subprocess.run([sys.executable, "-m", "study.cli", "embed", "--model", "minilm-l6", "--datasets",
                           str(folder), "--profile", "faults"], env=encode_env(tmp_path / "cache"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("study: error: ")
    assert "corpus.jsonl:2: malformed JSON line" in done.stderr
    assert not (tmp_path / "cache/embeddings").exists()


@pytest.mark.parametrize(("corpus", "message"), [
    ([DOCS[0], DOCS[1], DOCS[0]], "duplicate id 'd0'"),
    ([], "empty corpus"),
    (["", "   "], "empty corpus"),
], ids=["duplicate-ids", "empty-corpus", "blank-lines-only"])
def test_unusable_collections_are_refused_with_the_reason(tmp_path, corpus, message):
    with pytest.raises(DatasetError, match=message):
        load_collection(write_beir(tmp_path / "bad", corpus, QUERIES, ["q0\td0\t1"]))


def test_unknown_documents_and_queries_without_relevant_documents_are_dropped_and_counted(tmp_path, caplog):
    qrels = ["q0\td0\t1", "q0\td9\t1",   # one judgment names an unknown document
             "q1\td8\t2",                # q1's only judgment names an unknown document
             "q2\td1\t0",                # q2 has only a non-relevant judgment
             "q3\td2\t1", "q3\td3\t2"]
    with caplog.at_level(logging.WARNING):
        c = load_collection(write_beir(tmp_path / "odd", DOCS, QUERIES, qrels))
    assert c.problems["test:qrels_unknown_doc"] == 2
    assert any("2 judgments dropped" in r.message for r in caplog.records)
    assert c.split_query_ids("test") == ["q0", "q3"]  # q1 and q2 have nothing relevant: not evaluated
    rng = np.random.default_rng(0)
    per_query, _ = evaluate(rng.standard_normal((2, 8)), ["q0", "q3"], rng.standard_normal((6, 8)), c.doc_ids,
                            c.split_qrels("test"))
    assert list(per_query.query_id) == ["q0", "q3"] and np.isfinite(per_query.drop(columns="query_id")).all().all()


def test_nan_and_inf_vectors_never_crash_the_evaluator():
    rng = np.random.default_rng(1)
    docs = normalise(rng.standard_normal((20, 8)).astype(np.float32))
    queries = normalise(rng.standard_normal((4, 8)).astype(np.float32))
    docs[4, 2], docs[7, 0] = np.nan, np.inf
    queries[2, 5], queries[3, 1] = np.nan, -np.inf
    doc_ids = [f"d{i:02d}" for i in range(20)]
    qrels = {"q0": {"d04": 1, "d01": 1}, "q1": {"d07": 1}, "q2": {"d03": 1}, "q3": {"d02": 2}}
    with np.errstate(invalid="ignore"):
        per_query, result = evaluate(queries, ["q0", "q1", "q2", "q3"], docs, doc_ids, qrels)
    assert np.isfinite(per_query.drop(columns="query_id").to_numpy()).all()
    # NaN or inf component -> normalise() zeroes the row: an all-zero vector, cosine 0, counted
    assert (result.zero_docs, result.zero_queries) == (2, 2)
    assert np.isfinite(result.scores).all()
    assert result.scores[0][list(result.indices[0]).index(4)] == 0
    assert result.scores[0][list(result.indices[0]).index(7)] == 0
    for q in (2, 3):  # zero queries: every score 0, trec_eval tie order (doc id descending)
        assert (result.scores[q] == 0).all() and list(result.indices[q][:3]) == [19, 18, 17]


def test_all_zero_vectors_after_a_lossy_format_score_zero_and_are_counted(tiny_embeddings):
    collection, docs, queries = tiny_embeddings["adi"]
    split = collection.default_split()
    query_ids = collection.split_query_ids(split)
    d = round_trip(np.asarray(docs.vectors), "float4_e2m1")  # the paper's unscaled cast: every |x| < 0.25 -> 0
    q = round_trip(queries.rows(query_ids), "float4_e2m1")
    zero_docs, zero_queries = int((~d.any(axis=1)).sum()), int((~q.any(axis=1)).sum())
    assert zero_docs > 0
    per_query, result = evaluate(q, query_ids, d, collection.doc_ids, collection.split_qrels(split))
    assert (result.zero_docs, result.zero_queries) == (zero_docs, zero_queries)
    assert np.isfinite(result.scores).all() and np.isfinite(per_query.drop(columns="query_id").to_numpy()).all()
    if zero_docs == len(d):
        assert (result.scores == 0).all()


# ---------------------------------------------------------------------------------------------------
# Notebook parameters: every bad value -> one ParameterError line naming it, non-zero exit, no outputs

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# A bad value for every parameter name the stage notebooks use (a notebook's other parameters keep
# their defaults). Names not listed here are reported by test_every_notebook_parameter_has_a_bad_case.
BAD_VALUES = {
    "model": "no-such-model", "models": ["no-such-model"],
    "dataset": "no-such-collection", "datasets": ["adi", "no-such-collection"],
    "datasets_per_model": {"no-such-model": ["adi"]},
    "format": "no-such-format", "formats": ["float32", "no-such-format"], "query_format": "no-such-format",
    "reducer": "no-such-reducer", "reducers": ["pca", "no-such-reducer"],
    "fraction": 1.5, "fractions": [0.5, 0.0],
    "budget": "a lot of memory", "budgets": {"phone": "a lot of memory"},
    "weighting": "sometimes", "metric": "accuracy",
    "calibrate_on": "no-such-collection", "fit_on": "no-such-collection", "train_on": "no-such-collection",
    "profile": "../elsewhere",
    "n_vectors": [125000, 0], "threads": 0, "repeats": 0, "batch1_queries": -1,
    "indexes": ["no-such-index"], "hnsw": {"connectivity": -1},
    "methods": ["pca", "no-such-method"], "fit_sample": -5, "paper_calibrate_on": "no-such-collection",
    "asymmetric": ["no-such-format"], "rescore_first": ["no-such-format"], "rescore_tiers": ["no-such-format"],
    "reduced_formats": ["no-such-format"],
    "oversampling": [1, 0], "n_resamples": 0, "seed": "not-a-seed", "publish": "yes", "max_loss": -5,
    "path": "/no/such/vectors.npy", "queries": "/no/such/queries.npy", "qrels": "/no/such/qrels.tsv",
    "matryoshka": "yes", "ram": "a lot of memory", "disk": "a lot of memory", "budget_n_vectors": 0,
    "margin": 1.5, "margins": [0.0, -0.05],
}
# Parameters a notebook may leave unvalidated on purpose (free text, plain switches).
UNCHECKED = {"title", "caption", "verbose"}


def parameters_of(path: Path) -> tuple[str, str, list[str]]:
    """(parameters cell source, validation cell source, parameter names in order) of a notebook."""
    cells = nbformat.read(path, as_version=4).cells
    index = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    source = cells[index].source
    names = [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)]
    validation = next(c.source for c in cells[index + 1 :] if c.cell_type == "code")
    return source, validation, names


CASES = [(p.name, name) for p in NOTEBOOKS for name in parameters_of(p)[2] if name in BAD_VALUES]

VALIDATE = r"""
import json, signal, sys
cases = json.loads(sys.stdin.read())
results = {}
for case in cases:
    signal.alarm(120)  # a parameter that is not validated up front would start real work
    ns = {}
    exec(case["parameters"], ns)
    ns[case["name"]] = case["value"]
    try:
        exec(case["validation"], ns)
        results[case["id"]] = "no error"
    except BaseException as exc:
        results[case["id"]] = f"{type(exc).__name__}: {exc}"
    signal.alarm(0)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def validation_results(tmp_path_factory) -> dict[str, str]:
    """Run every notebook's validation cell with each bad value, all in one subprocess (fast)."""
    cases = []
    for notebook, name in CASES:
        parameters, validation, _ = parameters_of(REPO / "notebooks" / notebook)
        cases.append({"id": f"{notebook}:{name}", "parameters": parameters, "validation": validation, "name": name,
                      "value": BAD_VALUES[name]})
    out = tmp_path_factory.mktemp("validation-out")
    env = os.environ | {"STUDY_OUTPUT_DIR": str(out), "STUDY_CACHE_DIR": str(out / "cache")}
    done = subprocess.run([sys.executable, "-c", VALIDATE], input=json.dumps(cases), env=env, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not [p for p in out.rglob("*") if p.is_file()], "validation wrote files"
    return json.loads(done.stdout.strip().splitlines()[-1])


def names_the_parameter(message: str, name: str) -> bool:
    """``ParameterError: parameter '<name>' ...``, allowing a singular (``'index'`` for ``indexes``)."""
    stem = re.sub(r"(es|s)$", "", name)
    return message.startswith("ParameterError: parameter ") and stem in message.split(":")[1]


@pytest.mark.parametrize(("notebook", "name"), CASES, ids=[f"{n}:{p}" for n, p in CASES])
def test_every_bad_parameter_value_is_refused_by_the_validation_cell(validation_results, notebook, name):
    message = validation_results[f"{notebook}:{name}"]
    assert names_the_parameter(message, name), message


def test_every_notebook_parameter_has_a_bad_case():
    uncovered = {p.name: [n for n in parameters_of(p)[2] if n not in BAD_VALUES and n not in UNCHECKED]
                 for p in NOTEBOOKS}
    assert {k: v for k, v in uncovered.items() if v} == {}
    assert {"01-embed.ipynb", "02-quantization.ipynb"} <= {n for n, _ in CASES}


def papermill(notebook: str, tmp_path: Path, *params: str) -> subprocess.CompletedProcess:
    env = os.environ | {"STUDY_OUTPUT_DIR": str(tmp_path / "out"), "STUDY_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "papermill", "--no-progress-bar", str(REPO / "notebooks" / notebook),
           str(tmp_path / "executed.ipynb"), *params]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def assert_refused(done: subprocess.CompletedProcess, name: str, tmp_path: Path) -> None:
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("ParameterError: parameter ")]
    assert lines and names_the_parameter(lines[-1], name), done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1] == lines[-1]  # the last word is the one clear line
    written = [p for d in ("results", "figures", "paper") for p in (tmp_path / "out" / d).rglob("*") if p.is_file()]
    assert written == [] and not (tmp_path / "cache/embeddings").exists()


# Through papermill: one case per notebook (the most specific parameter it has; a bad model for 01,
# whose `datasets` is covered by the malformed-JSON case below).
PREFERRED = ["fraction", "fractions", "budget", "budgets", "reducer", "reducers", "format", "formats", "model",
             "datasets"]
PAPERMILL_CASES = sorted(
    (notebook, min((n for nb, n in CASES if nb == notebook), key=lambda n: (PREFERRED + [n]).index(n)))
    for notebook in {nb for nb, _ in CASES}
)


@pytest.mark.parametrize(("notebook", "name"), PAPERMILL_CASES, ids=[f"{n}:{p}" for n, p in PAPERMILL_CASES])
def test_papermill_run_with_a_bad_parameter_fails_cleanly(notebook, name, tmp_path):
    done = papermill(notebook, tmp_path, "-y", json.dumps({name: BAD_VALUES[name]}))
    assert_refused(done, name, tmp_path)


@pytest.mark.parametrize(("notebook", "name", "text"), [
    ("01-embed.ipynb", "datasets", '["adi", "time"'),
    ("02-quantization.ipynb", "datasets_per_model", '{"minilm-l6": ["adi"'),
])
def test_malformed_json_given_with_p_is_one_clear_error(notebook, name, text, tmp_path):
    assert_refused(papermill(notebook, tmp_path, "-p", name, text), name, tmp_path)


# ---------------------------------------------------------------------------------------------------
# No network on the default path

BLOCK_NETWORK = r"""
import os, socket

_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo
LOCAL = ("127.0.0.1", "::1", "localhost")


def _refuse(what):
    with open(os.environ["NETWORK_ATTEMPTS"], "a") as fh:
        fh.write(f"{what!r}\n")
    raise OSError("network access is blocked in this test")


def _guard(self, address):
    if isinstance(address, tuple) and address[0] not in LOCAL:
        _refuse(address)
    return _connect(self, address)


def _resolve(host, *args, **kwargs):
    if host not in LOCAL and host is not None:
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guard
socket.getaddrinfo = _resolve
"""


def test_a_stage_runs_end_to_end_with_the_network_blocked(tmp_path):
    """Embed adi from scratch and run stage 02 on it: no connection (or DNS lookup) may even be tried,
    although HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are left unset. Proxies are unset too, so that any
    attempt goes to the guarded socket functions and is recorded (a proxy on 127.0.0.1 would hide it)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_NETWORK)
    attempts = tmp_path / "attempts.txt"
    unset = {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HTTP_PROXY", "HTTPS_PROXY",
             "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
    env = {k: v for k, v in os.environ.items() if k not in unset} | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        "NETWORK_ATTEMPTS": str(attempts),
        "STUDY_CACHE_DIR": str(tmp_path / "cache"), "STUDY_OUTPUT_DIR": str(tmp_path / "out"),
    }
    script = ("import socket\n"
              "assert socket.socket.connect.__name__ == '_guard' and socket.getaddrinfo.__name__ == '_resolve'\n"
              "from study.stages.embed import embed_collections\n"
              "from study.params import QuantizationParams\n"
              "from study.stages.quantization import run_quantization_stage\n"
              "embed_collections('minilm-l6', ['adi'], 'offline')\n"
              "out = run_quantization_stage(QuantizationParams(datasets=['adi'], formats=['float32', 'int8', 'binary'],"
              " calibrate_on='self', profile='offline'))\n"
              "print(len(out.tidy))\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not attempts.exists(), attempts.read_text()
    assert (tmp_path / "out/results/offline/02-quantization.csv").exists()
    assert int(done.stdout.strip().splitlines()[-1]) == 3 * 3  # 3 formats x 3 metrics on one collection
