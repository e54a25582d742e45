"""Retrieval collections in BEIR layout (local folders) and MTEB tasks (online only).

A BEIR folder holds ``corpus.jsonl`` (or ``corpus.jsonl.gz``), ``queries.jsonl`` and
``qrels/<split>.tsv``. Documents are embedded as ``(title + " " + text).strip()``, as MTEB does.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from study.core.errors import DatasetError, ParameterError
from study.core.names import MTEB_PREFIX, collection_name  # noqa: F401  (collection_name: re-exported)
from study.core.offline import offline_by_default
from study.core.paths import data_root

log = logging.getLogger(__name__)

Qrels = dict[str, dict[str, int]]


@dataclass
class Collection:
    """A loaded collection: corpus, queries and positive judgments per split."""

    name: str
    doc_ids: list[str]
    doc_texts: list[str]
    queries: dict[str, str]
    qrels: dict[str, Qrels]
    checksum: str
    source: str
    problems: dict[str, int] = field(default_factory=dict)

    @property
    def splits(self) -> list[str]:
        return sorted(self.qrels)

    def split_qrels(self, split: str) -> Qrels:
        if split not in self.qrels:
            raise ParameterError("split", split, self.splits)
        return self.qrels[split]

    def split_query_ids(self, split: str) -> list[str]:
        """Judged queries of a split that have a text, in a stable (sorted) order."""
        return sorted(q for q in self.split_qrels(split) if q in self.queries)

    def default_split(self) -> str:
        return "test" if "test" in self.qrels else self.splits[0]


def list_collections(root: Path | None = None) -> list[str]:
    """Names of the BEIR folders under the data root."""
    root = root or data_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if _is_beir_folder(p))


def _is_beir_folder(path: Path) -> bool:
    return path.is_dir() and (path / "queries.jsonl").exists() and (path / "qrels").is_dir()


def resolve_collection_path(name_or_path: str | Path, root: Path | None = None) -> Path:
    """A collection name under the data root, or a path to a BEIR folder."""
    candidate = Path(name_or_path).expanduser()
    if _is_beir_folder(candidate):
        return candidate.resolve()
    root = root or data_root()
    named = root / str(name_or_path)
    if _is_beir_folder(named):
        return named.resolve()
    raise ParameterError(
        "dataset",
        str(name_or_path),
        f"a BEIR folder path, 'mteb:<Task>', or one of {list_collections(root)} (data root: {root})",
    )


def load_collection(name_or_path: str | Path, root: Path | None = None) -> Collection:
    """Load a collection by name (from the data root), by folder path, or ``mteb:<Task>`` online."""
    if str(name_or_path).startswith(MTEB_PREFIX):
        return load_mteb_task(str(name_or_path)[len(MTEB_PREFIX) :])
    path = resolve_collection_path(name_or_path, root)
    return load_beir_folder(path, name=Path(str(name_or_path)).name)


def _corpus_file(path: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (path / name).exists():
            return path / name
    raise DatasetError(f"{path}: no corpus.jsonl or corpus.jsonl.gz")


def _read_jsonl(path: Path, digest: hashlib._Hash) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    with opener(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            digest.update(raw)
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: malformed JSON line ({exc.msg})") from None
            if not isinstance(record, dict) or "_id" not in record:
                raise DatasetError(f"{path}:{lineno}: a record needs an '_id' field")
            records.append(record)
    return records


def _unique_ids(records: list[dict], path: Path) -> list[str]:
    ids = [str(r["_id"]) for r in records]
    seen: set[str] = set()
    for i, doc_id in enumerate(ids):
        if doc_id in seen:
            raise DatasetError(f"{path}: duplicate id {doc_id!r} (record {i + 1})")
        seen.add(doc_id)
    return ids


def _read_qrels(path: Path, digest: hashlib._Hash) -> Qrels:
    digest.update(path.read_bytes())
    qrels: Qrels = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for lineno, row in enumerate(reader, start=1):
            if not row or (lineno == 1 and row[0] == "query-id"):
                continue
            if len(row) < 3:
                raise DatasetError(f"{path}:{lineno}: expected query-id, corpus-id, score")
            try:
                score = int(float(row[2]))
            except ValueError:
                raise DatasetError(f"{path}:{lineno}: score {row[2]!r} is not a number") from None
            if score > 0:
                qrels.setdefault(row[0], {})[row[1]] = score
    return qrels


def doc_text(record: dict) -> str:
    return (str(record.get("title") or "") + " " + str(record.get("text") or "")).strip()


def load_beir_folder(path: Path, name: str | None = None) -> Collection:
    """Load and validate one BEIR folder."""
    digest = hashlib.sha256()
    corpus_path = _corpus_file(path)
    corpus = _read_jsonl(corpus_path, digest)
    if not corpus:
        raise DatasetError(f"{corpus_path}: empty corpus")
    doc_ids = _unique_ids(corpus, corpus_path)
    query_records = _read_jsonl(path / "queries.jsonl", digest)
    query_ids = _unique_ids(query_records, path / "queries.jsonl")
    queries = {qid: str(r.get("text") or "") for qid, r in zip(query_ids, query_records, strict=True)}
    qrel_files = sorted((path / "qrels").glob("*.tsv"))
    if not qrel_files:
        raise DatasetError(f"{path / 'qrels'}: no <split>.tsv files")
    qrels = {f.stem: _read_qrels(f, digest) for f in qrel_files}
    collection = Collection(
        name=name or path.name,
        doc_ids=doc_ids,
        doc_texts=[doc_text(r) for r in corpus],
        queries=queries,
        qrels=qrels,
        checksum=digest.hexdigest(),
        source=str(path),
    )
    collection.problems = _count_problems(collection)
    _report_problems(collection)
    return collection


def _count_problems(c: Collection) -> dict[str, int]:
    """Count judgments that name unknown documents or queries, per split; drop them from qrels."""
    known_docs = set(c.doc_ids)
    problems: dict[str, int] = {}
    for split, qrels in c.qrels.items():
        unknown_docs = sum(1 for q in qrels.values() for d in q if d not in known_docs)
        unknown_queries = sum(1 for q in qrels if q not in c.queries)
        for qid in list(qrels):
            qrels[qid] = {d: s for d, s in qrels[qid].items() if d in known_docs}
            if not qrels[qid] or qid not in c.queries:
                del qrels[qid]
        problems[f"{split}:qrels_unknown_doc"] = unknown_docs
        problems[f"{split}:qrels_unknown_query"] = unknown_queries
    return problems


def _report_problems(c: Collection) -> None:
    for key, count in c.problems.items():
        if count:
            log.warning("%s: %d judgments dropped (%s)", c.name, count, key)


def load_mteb_task(task_name: str) -> Collection:
    """Online loader for an MTEB retrieval task by name (needs network access to Hugging Face)."""
    offline_by_default()
    try:
        import mteb
    except ImportError as exc:  # pragma: no cover - mteb is a dependency
        raise DatasetError(f"mteb:{task_name}: the mteb package is not installed") from exc
    try:
        task = mteb.get_task(task_name)
        task.load_data()
    except KeyError as exc:
        raise ParameterError("dataset", f"mteb:{task_name}", "a retrieval task name known to mteb") from exc
    except Exception as exc:  # network and hub errors come in many types
        raise DatasetError(
            f"mteb:{task_name}: could not download the task ({type(exc).__name__}). MTEB tasks need "
            "network access to Hugging Face; offline, use a BEIR folder from the data root instead."
        ) from None
    return _collection_from_mteb(task, task_name)


def _collection_from_mteb(task, task_name: str) -> Collection:  # pragma: no cover - needs network
    subset = task.dataset["default"] if "default" in task.dataset else next(iter(task.dataset.values()))
    doc_ids: list[str] = []
    doc_texts: list[str] = []
    queries: dict[str, str] = {}
    qrels: dict[str, Qrels] = {}
    digest = hashlib.sha256(task_name.encode())
    for split, data in subset.items():
        for row in data["corpus"]:
            if row["id"] not in queries and row["id"] not in doc_ids:
                doc_ids.append(row["id"])
                doc_texts.append(doc_text(row))
        for row in data["queries"]:
            queries[row["id"]] = row["text"] if isinstance(row["text"], str) else " ".join(row["text"])
        qrels[split] = {q: {d: int(s) for d, s in docs.items() if s > 0} for q, docs in data["relevant_docs"].items()}
    digest.update(json.dumps([doc_ids, sorted(queries)]).encode())
    return Collection(task_name, doc_ids, doc_texts, queries, qrels, digest.hexdigest(), f"mteb:{task_name}")


def collection_table(names: list[str]) -> pd.DataFrame:
    """The collections a notebook uses: name, documents, judged queries and split evaluated, and where each is
    read from (a shared collection by name, or a BEIR folder given by path)."""
    rows = []
    for name in names:
        c = load_collection(name)
        split = c.default_split()
        rows.append({"collection": c.name, "documents": len(c.doc_ids), "judged queries": len(c.split_query_ids(split)),
                     "split": split, "texts (weight)": len(c.doc_ids) + len(c.split_query_ids(split)),
                     "source": c.source})
    return pd.DataFrame(rows)
