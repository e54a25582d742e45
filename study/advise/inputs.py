"""A user's vectors, read and checked: ``.npy``, Parquet, ann-benchmarks HDF5 or a BEIR folder with a study model.

Reading (``read_source``) opens the documents without loading them where the format allows it (``.npy`` memory
mapped, HDF5 read a block at a time); Parquet columns are read with pyarrow. Checking and splitting
(``prepare``) then reads the rows a block at a time:

* every row is audited: NaN or inf components, all-zero rows (``bad_rows``: ``refuse``, the default, stops with
  their count; ``drop`` leaves them out and says how many), and the largest distance of a norm from 1 (rows are
  normalised, and the notes say so, when it exceeds ``UNIT_TOLERANCE``: the study's scores are cosine);
* queries are the user's (``--queries``, an HDF5 file's ``test``, a BEIR split's judged queries; a seeded sample of
  ``sample_queries`` of them where there are more), or else a seeded sample of the documents, held out of the index;
* the training sample of codecs and reducers is a seeded sample of at most ``train_rows`` of the index's documents
  (all of them, in order, where there are no more: what the study's ``self`` training set is), never a query.

Documents and queries are named by their row in the file, zero-padded (``00042``), so the trec_eval tie order of
the study's searches is the rows' order. Every error is one line naming the parameter or the file and what is
allowed; nothing is written here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from study.core.errors import DatasetError, ParameterError, StudyError
from study.core.names import ADVISE_FORMATS
from study.core.vectors import normalise
from study.data.datasets import Qrels
from study.experiment.configs import POOL_ROWS, load_eval_data
from study.search.metrics import DEPTH
from study.search.streaming import release_pages

INPUT_FORMATS = ADVISE_FORMATS
BAD_ROWS = ("refuse", "drop")
DTYPES = ("float32", "float16", "float64")
SUFFIXES = {".npy": "npy", ".parquet": "parquet", ".pq": "parquet", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5"}
HDF5_DOCS, HDF5_QUERIES, HDF5_NEIGHBOURS = "train", "test", "neighbors"
UNIT_TOLERANCE = 1e-4
"""Rows are normalised when a finite, non-zero row's norm differs from 1 by more than this."""
DEFAULT_SAMPLE_QUERIES = 1000
DEFAULT_TRAIN_ROWS = POOL_ROWS
QUERY_SHARE = 5
"""Held-out queries are at most one row in ``QUERY_SHARE`` of the usable documents."""
MIN_INDEX_DOCS = DEPTH
"""The index must hold at least the depth of the top-100 overlap."""
BLOCK_ROWS = 65536
QUERY_SEED_STREAM, TRAIN_SEED_STREAM = 0, 1
COSINE_DISTANCES = ("angular", "cosine")


@dataclass
class Source:
    """What was read: documents (an array-like of 2-D shape: memmap, array or HDF5 dataset), optional queries and
    judgments, ids where the source names its texts (BEIR), an HDF5 file's neighbours, and what describes it."""

    format: str
    path: Path
    name: str
    docs: Any
    queries: Any | None = None
    qrels: Qrels | None = None
    doc_ids: list[str] | None = None
    query_ids: list[str] | None = None
    split: str | None = None
    neighbours: np.ndarray | None = None
    details: dict[str, Any] = field(default_factory=dict)
    handle: Any = None  # an open file the arrays read from (HDF5), closed by ``close``

    def close(self) -> None:
        """Close the file the arrays read from, if any (they cannot be read afterwards)."""
        if self.handle is not None:
            self.handle.close()
            self.handle = None


@dataclass
class Audit:
    """Per row of an array: a NaN or inf component, all zeros; the largest |norm − 1| of the other rows."""

    nonfinite: np.ndarray
    zero: np.ndarray
    max_norm_error: float

    @property
    def bad(self) -> np.ndarray:
        return self.nonfinite | self.zero


@dataclass
class Prepared:
    """The vectors a run evaluates: the index, the queries, the training sample (float32, unit rows where any row
    was not), their ids, the judgments, notes for the report and where each row came from."""

    name: str
    split: str
    docs: np.ndarray
    doc_ids: list[str]
    queries: np.ndarray
    query_ids: list[str]
    training: np.ndarray
    qrels: Qrels | None
    notes: list[str]
    rows: dict[str, Any]
    query_rows: np.ndarray
    training_rows: np.ndarray

    @property
    def dims(self) -> int:
        return int(self.docs.shape[1])


# --- reading -------------------------------------------------------------------------------------------------


def detect_format(path: Path, given: str | None) -> str:
    """The input format: ``given``, else from the file's suffix (a folder is a BEIR collection)."""
    if given is not None:
        if given not in INPUT_FORMATS:
            raise ParameterError("format", given, INPUT_FORMATS)
        return given
    if path.is_dir():
        return "beir"
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError("format", f"(unknown for {path.name})",
                             f"{', '.join(INPUT_FORMATS)}; name it with --format, or use a suffix "
                             f"{', '.join(SUFFIXES)}")
    return fmt


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise StudyError(f"{what} {path}: no such file or folder")
    return path


def read_npy(path: Path, what: str = "documents") -> np.ndarray:
    """A ``.npy`` array, memory-mapped (no copy); dtype and shape are checked by ``check_array``."""
    try:
        array = np.load(_existing(path, what), mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DatasetError(f"{what} {path}: not a readable .npy array ({str(exc).splitlines()[0]})") from None
    if not isinstance(array, np.ndarray):
        raise DatasetError(f"{what} {path}: an .npz archive, not one .npy array")
    return array


def _vector_columns(schema: Any) -> dict[str, str]:
    """{column: type} of the schema's list / fixed-size-list columns of floats."""
    import pyarrow as pa

    out = {}
    for f in schema:
        t = f.type
        if (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)) and \
                pa.types.is_floating(t.value_type):
            out[f.name] = str(t)
    return out


def read_parquet(path: Path, column: str | None, what: str = "documents") -> np.ndarray:
    """The vectors of one Parquet column (``list<float>`` of one length, or ``fixed_size_list<float>``): ``column``,
    else the file's only such column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(_existing(path, what))
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(f"{what} {path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    vectors = _vector_columns(schema)
    found = ", ".join(f"{f.name} ({f.type})" for f in schema) or "none"
    if column is None:
        if len(vectors) != 1:
            raise ParameterError("column", None, f"the column holding the vectors, one of the file's list<float> "
                                                 f"columns; found: {found}")
        column = next(iter(vectors))
    if column not in vectors:
        raise ParameterError("column", column, f"a list<float> or fixed_size_list<float> column; found: {found}")
    try:
        values = pq.read_table(path, columns=[column]).column(column).combine_chunks()
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(f"{what} {path}: column {column!r} cannot be read ({str(exc).splitlines()[0]})") from None
    return _list_array(values, column, path, what)


def _list_array(values: Any, column: str, path: Path, what: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.null_count:
        raise DatasetError(f"{what} {path}: column {column!r} has {values.null_count} null rows")
    n = len(values)
    if pa.types.is_fixed_size_list(values.type):
        dims = values.type.list_size
    else:
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        if n and lengths.min() != lengths.max():
            raise DatasetError(f"{what} {path}: column {column!r} holds lists of {lengths.min()} to "
                               f"{lengths.max()} values; every vector must have the same length")
        dims = int(lengths[0]) if n else 0
    flat = values.flatten()
    if flat.null_count:
        raise DatasetError(f"{what} {path}: column {column!r} has {flat.null_count} null values inside its vectors")
    return flat.to_numpy(zero_copy_only=False).reshape(n, dims)


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ParameterError("format", "hdf5", "npy, parquet or beir: reading HDF5 needs the h5py package, which is "
                                               "not installed here (pip install h5py)") from None
    return h5py


def read_hdf5(path: Path) -> tuple[Any, Any | None, np.ndarray | None, dict[str, Any], Any]:
    """The ann-benchmarks layout: ``train`` (documents), ``test`` (queries, optional), ``neighbors`` (optional), the
    file's ``distance`` attribute, and the open file (its datasets are read a block at a time)."""
    h5py = _h5py()
    try:
        handle = h5py.File(_existing(path, "documents"), "r")
    except OSError as exc:
        raise DatasetError(f"documents {path}: not a readable HDF5 file ({str(exc).splitlines()[0]})") from None
    found = sorted(handle.keys())
    if HDF5_DOCS not in handle or not isinstance(handle[HDF5_DOCS], h5py.Dataset):
        handle.close()
        raise DatasetError(f"documents {path}: no dataset {HDF5_DOCS!r} (the ann-benchmarks layout: train, test, "
                           f"neighbors); found: {', '.join(found) or 'none'}")
    queries = handle.get(HDF5_QUERIES)
    neighbours = np.asarray(handle[HDF5_NEIGHBOURS][...]) if HDF5_NEIGHBOURS in handle else None
    distance = handle.attrs.get("distance")
    distance = distance.decode() if isinstance(distance, bytes) else distance
    return handle[HDF5_DOCS], queries, neighbours, {"distance": None if distance is None else str(distance),
                                                   "datasets": found}, handle


def read_qrels(path: Path) -> Qrels:
    """Judgments as a BEIR ``qrels`` TSV: query id, document id, relevance (a header line is optional). For arrays
    the ids are row numbers (from 0) of the query and document files."""
    try:
        frame = pd.read_csv(_existing(path, "qrels"), sep="\t", header=None, dtype=str, comment=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"qrels {path}: not a TSV of query id, document id, relevance ({exc})") from None
    if frame.shape[1] < 3:
        raise DatasetError(f"qrels {path}: {frame.shape[1]} columns; expected query id, document id, relevance")
    if not str(frame.iloc[0, 2]).lstrip("-").isdigit():
        frame = frame.iloc[1:]  # the header
    qrels: Qrels = {}
    for q, d, rel in frame.iloc[:, :3].itertuples(index=False):
        try:
            qrels.setdefault(str(q), {})[str(d)] = int(rel)
        except ValueError:
            raise DatasetError(f"qrels {path}: relevance {rel!r} of ({q}, {d}) is not an integer") from None
    return qrels


def read_vectors(path: Path, column: str | None, what: str) -> Any:
    """A second vector file (queries): ``.npy`` or Parquet, by its suffix."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt == "npy":
        return read_npy(path, what)
    if fmt == "parquet":
        return read_parquet(path, column, what)
    raise ParameterError("queries", str(path), "a .npy or .parquet file of query vectors")


def read_source(path: str | Path, fmt: str | None = None, *, queries: str | Path | None = None,
                qrels: str | Path | None = None, column: str | None = None, query_column: str | None = None,
                model: str | None = None, name: str | None = None) -> Source:
    """Open the user's data (nothing is loaded that need not be)."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    if fmt == "beir":
        return _read_beir(path, model, queries, qrels, name)
    if model is not None:
        raise ParameterError("model", model, "no model for vectors (a model is for --format beir, a folder of texts)")
    if fmt == "npy":
        source = Source(fmt, path, name or path.stem, read_npy(path))
    elif fmt == "parquet":
        source = Source(fmt, path, name or path.stem, read_parquet(path, column), details={"column": column})
    else:
        docs, test, neighbours, details, handle = read_hdf5(path)
        if queries is not None and test is not None:
            handle.close()
            raise ParameterError("queries", str(queries), f"none: the HDF5 file's {HDF5_QUERIES!r} dataset is the "
                                                          "queries")
        source = Source(fmt, path, name or path.stem, docs, test, neighbours=neighbours, details=details,
                        handle=handle)
    try:
        if queries is not None:
            source.queries = read_vectors(Path(queries), query_column, "queries")
        if qrels is not None:
            if source.queries is None:
                raise ParameterError("qrels", str(qrels), "judgments of given queries: pass --queries too (held-out "
                                                          "documents have no judgments)")
            source.qrels = read_qrels(Path(qrels))
    except StudyError:
        source.close()
        raise
    return source


def _read_beir(path: Path, model: str | None, queries: object, qrels: object, name: str | None) -> Source:
    if model is None:
        raise ParameterError("model", None, "one of the study's models (study models list): a BEIR folder holds "
                                            "texts, encoded with it")
    for option, value in (("queries", queries), ("qrels", qrels)):
        if value is not None:
            raise ParameterError(option, str(value), "none: a BEIR folder has its own queries and qrels")
    data = load_eval_data(model, str(_existing(path, "collection")))
    return Source("beir", path, name or data.dataset, data.docs, data.queries, data.qrels, data.doc_ids,
                  data.query_ids, data.split, details={"model": model, "collection": data.dataset})


# --- checking ------------------------------------------------------------------------------------------------


def check_array(array: Any, what: str, dims: int | None = None) -> tuple[int, int]:
    """(rows, width) of a 2-D float array; one line naming what is wrong otherwise."""
    dtype = np.dtype(getattr(array, "dtype", object))
    shape = tuple(getattr(array, "shape", ()))
    if dtype.name not in DTYPES:
        raise ParameterError(what, f"dtype {dtype}", "float32 or float16 vectors (float64 is read as float32)")
    if len(shape) != 2 or shape[0] < 1 or shape[1] < 2:
        raise ParameterError(what, f"shape {shape}", "a 2-D array (rows, width), at least one row of width 2 or more")
    if dims is not None and shape[1] != dims:
        raise ParameterError(what, f"width {shape[1]}", f"the documents' width, {dims}")
    return int(shape[0]), int(shape[1])


def _blocks(array: Any, n: int) -> Iterator[tuple[int, np.ndarray]]:
    """(start, float32 rows) of consecutive blocks; a memory map's pages are released after each."""
    for start in range(0, n, BLOCK_ROWS):
        block = array[start : start + BLOCK_ROWS]
        yield start, np.asarray(block, dtype=np.float32)
        _release(block)


def _release(block: Any) -> None:
    if isinstance(block, np.ndarray):
        release_pages(block)


def audit(array: Any) -> Audit:
    """Every row of ``array`` checked, a block at a time."""
    n = array.shape[0]
    nonfinite, zero = np.zeros(n, bool), np.zeros(n, bool)
    worst = 0.0
    for start, block in _blocks(array, n):
        finite = np.isfinite(block).all(axis=1)
        norms = np.linalg.norm(np.where(finite[:, None], block, 0.0), axis=1)
        nonfinite[start : start + len(block)] = ~finite
        zero[start : start + len(block)] = finite & (norms == 0)
        good = finite & (norms > 0)
        if good.any():
            worst = max(worst, float(np.abs(norms[good] - 1).max()))
    return Audit(nonfinite, zero, worst)


def _bad_rows(found: Audit, what: str, bad_rows: str) -> str | None:
    """Refuse (one line with the counts) or describe what is dropped; None when every row is usable."""
    n_nonfinite, n_zero = int(found.nonfinite.sum()), int(found.zero.sum())
    if not n_nonfinite and not n_zero:
        return None
    counts = f"{n_nonfinite} rows with NaN or inf, {n_zero} all-zero rows"
    if bad_rows == "refuse":
        raise StudyError(f"{what}: {counts} (cosine is undefined for them); pass --bad-rows drop to leave them out "
                         f"(allowed: {', '.join(BAD_ROWS)})")
    return f"{what}: {counts} dropped (--bad-rows drop)"


def gather(array: Any, rows: np.ndarray, unit: bool) -> np.ndarray:
    """``array[rows]`` (sorted rows) as float32, normalised when ``unit``, read a block of the source at a time."""
    out = np.empty((len(rows), array.shape[1]), dtype=np.float32)
    n = array.shape[0]
    for start in range(0, n, BLOCK_ROWS):
        lo, hi = np.searchsorted(rows, [start, start + BLOCK_ROWS])
        if lo == hi:
            continue
        block = array[start : start + BLOCK_ROWS]
        picked = np.asarray(block, dtype=np.float32)[rows[lo:hi] - start]
        out[lo:hi] = normalise(picked) if unit else picked
        _release(block)
    return out


def row_ids(rows: np.ndarray, n: int) -> list[str]:
    """Zero-padded row numbers: string order = row order (the trec_eval tie order of the searches)."""
    width = len(str(max(n - 1, 0)))
    return [f"{r:0{width}d}" for r in rows.tolist()]


def check_choice_of(name: str, value: object, allowed: tuple) -> Any:
    if value not in allowed:
        raise ParameterError(name, value, allowed)
    return value


def check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ParameterError(name, value, "a positive whole number")
    return int(value)


def _seeded_subset(rows: np.ndarray, size: int, seed: int, stream: int) -> np.ndarray:
    """At most ``size`` of ``rows`` (sorted), drawn without replacement from the seed and the stream; all of them
    (in order) where there are no more."""
    if len(rows) <= size:
        return rows
    return np.sort(np.random.default_rng([seed, stream]).choice(rows, size, replace=False))


def neighbours_note(source: Source, prepared: Prepared, reference: np.ndarray) -> str | None:
    """How far an ann-benchmarks file's ``neighbors`` agree with the exact cosine top-10 computed here (recall@10 of
    one against the other), where the file's distance is a cosine and every document row was kept."""
    if source.neighbours is None or len(source.neighbours) != prepared.rows["queries_read"]:
        return None
    distance = source.details.get("distance")
    if distance not in COSINE_DISTANCES:
        return (f"queries: the file's {HDF5_NEIGHBOURS} are for distance {distance!r}, not used: the study's scores "
                "are cosine")
    if prepared.rows["dropped_documents"]:
        return None
    ours = np.array([int(d) for d in prepared.doc_ids])[reference[:, :10]]
    theirs = np.asarray(source.neighbours)[prepared.query_rows, :10]
    agree = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ours.tolist(), theirs.tolist())]))
    return (f"queries: the file's {HDF5_NEIGHBOURS} (distance {distance}) hold {100 * agree:.1f} % of the exact "
            "cosine top-10 computed here")


# --- preparing -----------------------------------------------------------------------------------------------


@dataclass
class _Split:
    """Rows of the source chosen as the index and as queries, where the queries come from, their judgments."""

    index_rows: np.ndarray
    query_rows: np.ndarray
    query_source: Any
    query_ids: list[str]
    qrels: Qrels | None
    worst: float


def _held_out(source: Source, usable: np.ndarray, sample_queries: int, seed: int, notes: list[str]) -> _Split:
    """A seeded sample of the usable documents as queries, left out of the index."""
    n = source.docs.shape[0]
    n_q = min(sample_queries, len(usable) // QUERY_SHARE)
    if len(usable) - n_q < MIN_INDEX_DOCS or n_q < 1:
        raise StudyError(f"documents: {len(usable)} usable rows; at least {MIN_INDEX_DOCS + 1} are needed "
                         f"({MIN_INDEX_DOCS} in the index, the top-100 overlap, and held-out queries)")
    query_rows = np.sort(np.random.default_rng([seed, QUERY_SEED_STREAM]).choice(usable, n_q, replace=False))
    notes.append(f"queries: {n_q} documents drawn with seed {seed} and held out of the index (no --queries)")
    return _Split(np.setdiff1d(usable, query_rows, assume_unique=True), query_rows, source.docs,
                  row_ids(query_rows, n), None, 0.0)


def _given(source: Source, usable: np.ndarray, dims: int, bad_rows: str, sample_queries: int, seed: int,
           notes: list[str]) -> _Split:
    """The source's queries (the usable, judged ones where there are judgments), a seeded sample of them where there
    are more than ``sample_queries``; the index is every usable document."""
    n_queries, _ = check_array(source.queries, "queries", dims)
    found = audit(source.queries)
    note = _bad_rows(found, "queries", bad_rows)
    notes += [note] if note else []
    candidates = np.flatnonzero(~found.bad)
    ids = source.query_ids or row_ids(np.arange(n_queries), n_queries)
    qrels = source.qrels
    if qrels is not None:
        qrels = rows_qrels(qrels, n_queries, source.docs.shape[0]) if source.doc_ids is None else qrels
        judged = np.array([bool(qrels.get(ids[i])) for i in candidates], dtype=bool)
        if not judged.any():
            raise StudyError("qrels: no usable query has a judgment (the ids of arrays are row numbers from 0)")
        if not judged.all():
            notes.append(f"queries: {int((~judged).sum())} without judgments left out (nDCG@10 needs them)")
        candidates = candidates[judged]
    query_rows = _seeded_subset(candidates, sample_queries, seed, QUERY_SEED_STREAM)
    if len(query_rows) < len(candidates):
        notes.append(f"queries: {len(query_rows)} of {len(candidates)} drawn with seed {seed} (--sample-queries)")
    query_ids = [ids[i] for i in query_rows]
    return _Split(usable, query_rows, source.queries, query_ids,
                  None if qrels is None else {q: qrels[q] for q in query_ids}, found.max_norm_error)


def prepare(source: Source, bad_rows: str = "refuse", sample_queries: int = DEFAULT_SAMPLE_QUERIES,
            train_rows: int = DEFAULT_TRAIN_ROWS, seed: int = 0) -> Prepared:
    """Check every row, then split: the index, the queries, the training sample (module docstring)."""
    bad_rows = check_choice_of("bad_rows", bad_rows, BAD_ROWS)
    sample_queries, train_rows = check_count("sample_queries", sample_queries), check_count("train_rows", train_rows)
    n, dims = check_array(source.docs, "documents")
    notes: list[str] = []
    docs_audit = audit(source.docs)
    note = _bad_rows(docs_audit, "documents", bad_rows)
    notes += [note] if note else []
    usable = np.flatnonzero(~docs_audit.bad)
    held_out = source.queries is None
    split = (_held_out(source, usable, sample_queries, seed, notes) if held_out
             else _given(source, usable, dims, bad_rows, sample_queries, seed, notes))
    if len(split.index_rows) < MIN_INDEX_DOCS:
        raise StudyError(f"documents: {len(split.index_rows)} in the index; at least {MIN_INDEX_DOCS} are needed "
                         "(the top-100 overlap)")
    worst = max(docs_audit.max_norm_error, split.worst)
    unit = worst > UNIT_TOLERANCE
    if unit:
        notes.append(f"vectors normalised to unit length (largest |norm - 1| was {worst:.3g}; the study's scores are "
                     "cosine)")
    docs = gather(source.docs, split.index_rows, unit)
    training_rows = _seeded_subset(split.index_rows, train_rows, seed, TRAIN_SEED_STREAM)
    everything = len(training_rows) == len(split.index_rows)
    training = docs if everything else docs[np.searchsorted(split.index_rows, training_rows)]
    notes.append(f"training: {len(training_rows)} of the index's {len(split.index_rows)} documents train the codecs "
                 f"and reducers{'' if everything else f' (drawn with seed {seed})'}; never a query")
    doc_ids = [source.doc_ids[i] for i in split.index_rows] if source.doc_ids else row_ids(split.index_rows, n)
    rows = {"documents_read": n, "queries_read": None if held_out else int(source.queries.shape[0]), "dims": dims,
            "dtype": str(np.dtype(source.docs.dtype)), "index": len(split.index_rows), "queries": len(split.query_rows),
            "training": len(training_rows), "held_out_queries": held_out, "normalised": bool(unit),
            "max_norm_error": worst, "dropped_documents": int(docs_audit.bad.sum())}
    return Prepared(source.name, source.split or ("held-out" if held_out else "queries"), docs, doc_ids,
                    gather(split.query_source, split.query_rows, unit), split.query_ids, training, split.qrels, notes,
                    rows, split.query_rows, training_rows)


def rows_qrels(qrels: Qrels, n_queries: int, n_docs: int) -> Qrels:
    """Judgments of arrays, whose ids are row numbers (from 0), with the zero-padded ids of ``row_ids``."""
    out: Qrels = {}
    for q, judged in qrels.items():
        for d, gain in judged.items():
            if not (q.isdigit() and d.isdigit() and int(q) < n_queries and int(d) < n_docs):
                raise ParameterError("qrels", f"({q}, {d})", f"row numbers of the queries (0..{n_queries - 1}) and "
                                                             f"documents (0..{n_docs - 1})")
            out.setdefault(row_ids(np.array([int(q)]), n_queries)[0], {})[row_ids(np.array([int(d)]), n_docs)[0]] = gain
    return out
