"""Real vector indexes (usearch, faiss): build, serialize, search, time, and compare with the simulation.

The paper only *simulates* storage formats (cast, cast back, exact cosine). Here every format is
stored in a real index and measured: bytes per vector of the **serialized** index (codes, headers,
keys and, for HNSW, the graph), build time, queries per second at batch 1 and batch 100 with pinned
threads (medians of repeats), neighbour recall@10 against exact float32 search, and nDCG@10 of the
index's own ranking. Each index is also compared with its *simulated counterpart* (our evaluator on
vectors coded the same way) to show where a real engine computes what the simulation assumes.

Index kinds are named ``<library>-<format>-<search>``, e.g. ``usearch-e4m3-hnsw``, ``faiss-sq8-exact``:

* usearch 2.26 stores ``f32 f16 bf16 e4m3 e5m2 i8 b1`` (it also has 6-bit ``e3m2``/``e2m3``, stored one
  per byte, so no smaller than e4m3 and left out). *Exact* = usearch's brute-force kernel
  (``usearch.index.search(..., exact=True)``) over the code matrix; *hnsw* = ``usearch.index.Index``.
  usearch casts queries to the index's type, so queries and documents are coded alike (as the paper).
* faiss also stores ``rabitq`` (``IndexRaBitQ``, 1 bit per dimension + factors, queries at 8 bits) and, with
  ``ivf`` search (an inverted file of ≈ √N lists, 1/8 probed), ``IndexIVFRaBitQ``, ``IndexIVFPQ`` (dims/8 bytes) and
  ``pqrflat`` (IVF-PQ whose 4·k candidates are re-ranked on float32 vectors, ``IndexRefineFlat``: both tiers are
  stored and counted).
* faiss stores ``f32`` (``IndexFlatIP``), ``f16``/``bf16``/``sq8``/``sq4`` (``IndexScalarQuantizer``
  QT_fp16/QT_bf16/QT_8bit/QT_4bit), ``pq`` (``IndexPQ``, dims/8 sub-quantizers of 8 bits: as many bytes
  as ``b1``) and ``b1`` (``IndexBinaryFlat``); hnsw = ``IndexHNSWFlat``/``IndexHNSWSQ``/``IndexBinaryHNSW``
  (no PQ-HNSW). faiss keeps queries in float32 and scores the inner product with the decoded documents.

Scores are *higher is better*: cosine (usearch ``1 - distance``), inner product (faiss), and
``-Hamming distance`` for ``b1`` (as ``study.search.hamming``).

Where the simulation and the index differ (the ``reference`` text of each kind says how):

* usearch ``f16/bf16/e5m2`` codes equal the ml_dtypes casts of ``study.compress.formats`` bit for bit; ``e4m3``
  too inside its range, but usearch *saturates* at ±448 where ml_dtypes' ``float8_e4m3fn`` gives NaN.
* usearch ``i8`` is not the paper's int8: usearch stores ``trunc(127 · x / ‖x‖)`` (normalise, scale,
  truncate toward zero; measured, see tests) and scores cosine on those codes, while the paper takes
  per-dimension min/max from a calibration set, 255 steps, uint8 codes with wrap-around.
* faiss ``f16``/``bf16`` round exact half-way cases away from zero (ml_dtypes: to even), so ~3 in 10^5
  components differ by one unit in the last place; and faiss scores the inner product with the
  decoded document, whose norm is 1 ± ~10^-3, while our evaluator re-normalises (cosine).
* faiss ``sq8``/``sq4`` train per-dimension min/max ranges on the training set and decode to the cell
  centre; ``pq`` learns codebooks (k-means); no format of the paper does either. Their reference is
  our cosine evaluator on faiss's own decoded vectors, so it differs by the inner product vs cosine.
* ``b1`` (both libraries) is Hamming on ``x > 0`` bits (the same bits as ``study.compress.formats``'s
  ``binary``); the paper scored cosine on {0, 1}, a different ranking.
"""

from __future__ import annotations

import io
import math
import statistics
import time
from dataclasses import dataclass

import faiss
import numpy as np
from usearch.index import Index as UsearchIndex
from usearch.index import search as usearch_search

from study.compress.codecs import faiss_threads
from study.compress.formats import quantize, round_trip
from study.core.errors import ParameterError
from study.search.exact import search
from study.search.hamming import hamming_search
from study.search.metrics import neighbour_recall
from study.search.ranking import SearchResult
from study.search.streaming import iter_row_blocks

LIBRARIES = ("usearch", "faiss")
SEARCHES = ("exact", "hnsw", "ivf")
K = 10
BATCHES = (1, 100)
E4M3_MAX = 448.0  # largest finite float8 E4M3 (fn) value, where usearch saturates

# format -> (usearch dtype, metric, bits per dimension, study.compress.formats format with the same cast)
USEARCH_FORMATS: dict[str, tuple[str, str, int, str | None]] = {
    "f32": ("f32", "cos", 32, "float32"),
    "f16": ("f16", "cos", 16, "float16"),
    "bf16": ("bf16", "cos", 16, "bfloat16"),
    "e4m3": ("e4m3", "cos", 8, "float8_e4m3"),
    "e5m2": ("e5m2", "cos", 8, "float8_e5m2"),
    "i8": ("i8", "cos", 8, None),
    "b1": ("b1", "hamming", 1, "binary"),
}

# format -> (faiss scalar-quantizer type name or "flat"/"pq"/"binary", bits per dimension, study format)
FAISS_FORMATS: dict[str, tuple[str, float, str | None]] = {
    "f32": ("flat", 32, "float32"),
    "f16": ("QT_fp16", 16, "float16"),
    "bf16": ("QT_bf16", 16, "bfloat16"),
    "sq8": ("QT_8bit", 8, None),
    "sq4": ("QT_4bit", 4, None),
    "pq": ("pq", 1, None),
    "b1": ("binary", 1, "binary"),
    "rabitq": ("rabitq", 1, None),
    "pqrflat": ("pqrflat", 33, None),
}
FAISS_NO_HNSW = ("pq", "rabitq", "pqrflat")
FAISS_IVF = ("pq", "rabitq", "pqrflat")  # the inverted-file kinds (IVF-PQ, IVF-RaBitQ, IVF-PQ + float32 refine)
FAISS_NO_EXACT = ("pqrflat",)
FAISS_TRAINED = ("sq8", "sq4", "pq", "rabitq", "pqrflat")
RABITQ_QB = 8  # query bits of faiss' RaBitQ search, as study.compress.codecs' symmetric RaBitQ
REFINE_FACTOR = 4  # IVF-PQ + RFlat: the PQ search proposes 4 × k candidates, float32 vectors re-rank them


@dataclass(frozen=True)
class HNSWParams:
    """HNSW graph parameters, the same for both libraries (usearch's defaults; faiss's M is usearch's
    connectivity, efConstruction its expansion_add, efSearch its expansion_search)."""

    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 64


@dataclass(frozen=True)
class IndexKind:
    """One kind of real index: a library, a storage format and a search method."""

    library: str
    format: str
    search: str
    bits: float
    paper_format: str | None
    reference: str
    same_arithmetic: bool

    @property
    def name(self) -> str:
        return f"{self.library}-{self.format}-{self.search}"

    @property
    def trained(self) -> bool:
        """Whether building it learns from a training set (faiss SQ ranges, PQ codebooks, RaBitQ's centre, an
        inverted file's lists); usearch and faiss' flat, fp16, bf16 and binary indexes learn nothing."""
        return self.library == "faiss" and (self.format in FAISS_TRAINED or self.search == "ivf")


def _reference_text(library: str, fmt: str) -> tuple[str, bool]:
    """How the simulated counterpart of a format is computed, and whether it is the index's arithmetic."""
    if fmt == "b1":
        return ("study.search.hamming on the x > 0 bits of study.compress.formats 'binary' (the paper used cosine "
                "on {0,1})"), True
    if library == "usearch":
        if fmt == "i8":
            return "cosine on trunc(127·x/‖x‖) codes, usearch's i8 rule (not the paper's uint8 min/max int8)", True
        paper = USEARCH_FORMATS[fmt][3]
        extra = " (usearch saturates at ±448, ml_dtypes gives NaN)" if fmt == "e4m3" else ""
        return f"cosine on study.compress.formats '{paper}' round trip of docs and queries{extra}", True
    if fmt in ("f32", "f16", "bf16"):
        paper = FAISS_FORMATS[fmt][2]
        return (f"cosine, study.compress.formats '{paper}' docs, float32 queries (faiss: inner product on decoded "
                "docs; rounding of half-way cases differs)"), True
    return ("cosine on faiss's own decoded docs, float32 queries (faiss: inner product, not re-normalised; "
            "no paper format trains ranges or codebooks)"), False


def _all_kinds() -> dict[str, IndexKind]:
    kinds = {}
    for search_method in SEARCHES:
        for fmt, (_, _, bits, paper) in USEARCH_FORMATS.items():
            if search_method == "ivf":  # usearch has no inverted file
                continue
            ref, same = _reference_text("usearch", fmt)
            kind = IndexKind("usearch", fmt, search_method, bits, paper, ref, same)
            kinds[kind.name] = kind
        for fmt, (_, bits, paper) in FAISS_FORMATS.items():
            if ((search_method == "hnsw" and fmt in FAISS_NO_HNSW) or (search_method == "ivf" and fmt not in FAISS_IVF)
                    or (search_method == "exact" and fmt in FAISS_NO_EXACT)):
                continue
            ref, same = _reference_text("faiss", fmt)
            kind = IndexKind("faiss", fmt, search_method, bits, paper, ref, same)
            kinds[kind.name] = kind
    return kinds


KINDS: dict[str, IndexKind] = _all_kinds()


def get_kind(name: str) -> IndexKind:
    if name not in KINDS:
        raise ParameterError("index", name, list(KINDS))
    return KINDS[name]


def index_kinds(
    libraries: list[str] | None = None, formats: list[str] | None = None, searches: list[str] | None = None
) -> list[str]:
    """Names of the kinds matching the given libraries, formats and search methods (``None`` = all)."""
    for name, values, allowed in (
        ("libraries", libraries, LIBRARIES),
        ("index formats", formats, sorted(set(USEARCH_FORMATS) | set(FAISS_FORMATS))),
        ("searches", searches, SEARCHES),
    ):
        for v in values or []:
            if v not in allowed:
                raise ParameterError(name, v, allowed)
    return [
        k.name
        for k in KINDS.values()
        if (libraries is None or k.library in libraries)
        and (formats is None or k.format in formats)
        and (searches is None or k.search in searches)
    ]


def check_index_names(values: object) -> list[str]:
    """``"all"`` or a list of kind names, validated."""
    if values == "all":
        return list(KINDS)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not values:
        raise ParameterError("indexes", values, ["all", *KINDS])
    return [get_kind(v).name for v in values]


def check_hnsw(value: object) -> HNSWParams:
    """HNSWParams from a mapping (missing keys take the defaults)."""
    if isinstance(value, HNSWParams):
        return value
    allowed = list(HNSWParams.__dataclass_fields__)
    if not isinstance(value, dict):
        raise ParameterError("hnsw", value, f"a mapping with keys {allowed}")
    for key, v in value.items():
        if key not in allowed:
            raise ParameterError("hnsw", key, allowed)
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ParameterError(f"hnsw.{key}", v, "a positive integer")
    return HNSWParams(**value)


# --- codes --------------------------------------------------------------------------------------


def usearch_i8(vectors: np.ndarray) -> np.ndarray:
    """usearch's i8 codes: ``trunc(127 · x / ‖x‖)`` (it normalises before scaling, and truncates).

    Written out here only to simulate usearch's rule and to check it (tests compare with the codes a
    usearch index stores); usearch itself does the conversion inside its indexes.
    """
    x = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.trunc(127 * x / np.where(norms > 0, norms, 1)).astype(np.int8)


def usearch_codes(vectors: np.ndarray, fmt: str) -> np.ndarray:
    """The array usearch's exact kernel scans for ``fmt`` (and the codes it stores in an index of that
    dtype): ml_dtypes casts of study.compress.formats for floats, usearch's rule for i8, packed x > 0 bits for b1."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if fmt == "f32":
        return x
    if fmt == "i8":
        return usearch_i8(x)
    paper = USEARCH_FORMATS[fmt][3]
    if fmt == "e4m3":
        x = np.clip(x, -E4M3_MAX, E4M3_MAX)
    packed = quantize(x, paper).packed
    return packed.view({"f16": np.float16, "bf16": np.uint16}.get(fmt, np.uint8))


def binary_codes(vectors: np.ndarray) -> np.ndarray:
    """x > 0 bits, packed 8 per byte (study.compress.formats's 'binary' codes)."""
    return quantize(np.asarray(vectors, dtype=np.float32), "binary").packed


# --- indexes ------------------------------------------------------------------------------------


class BuiltIndex:
    """An index holding ``n`` document vectors; ``search`` returns (indices, scores), -1 where missing."""

    kind: IndexKind
    n: int
    dims: int
    code_bytes: float  # bytes of one vector's code, as the library reports or the format defines
    build_s: float
    params: str = ""

    def search(self, queries: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def serialize(self) -> bytes:
        raise NotImplementedError

    def decoded_docs(self) -> np.ndarray | None:
        """The float vectors the index holds, where only the library can decode them (faiss SQ/PQ)."""
        return None

    def serialized_bytes(self) -> int:
        """Length of ``serialize()`` (counted without building the bytes where the library allows)."""
        return len(self.serialize())

    @property
    def bytes_per_vector(self) -> float:
        return self.serialized_bytes() / self.n


def _usearch_arrays(matches, n_queries: int, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    keys = np.asarray(matches.keys).reshape(n_queries, -1)[:, :k]
    dist = np.asarray(matches.distances, dtype=np.float32).reshape(n_queries, -1)[:, :k]
    counts = np.asarray(getattr(matches, "counts", [keys.shape[1]] * n_queries)).reshape(n_queries)
    valid = np.arange(keys.shape[1])[None, :] < counts[:, None]
    indices = np.where(valid, keys.astype(np.int64), -1)
    scores = -dist if metric == "hamming" else 1.0 - dist
    return indices, np.where(valid, scores, -np.inf).astype(np.float32)


class _UsearchExact(BuiltIndex):
    """usearch's brute-force kernel over the code matrix; serialized as that matrix in .npy format."""

    def __init__(self, kind: IndexKind, docs: np.ndarray, threads: int) -> None:
        self.kind, self.threads = kind, threads
        self.dtype, self.metric, bits, _ = USEARCH_FORMATS[kind.format]
        self.n, self.dims = docs.shape
        start = time.perf_counter()
        self.codes = usearch_codes(docs, kind.format)
        self.build_s = time.perf_counter() - start
        self.code_bytes = self.dims * bits / 8

    def search(self, queries: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.n)
        codes = usearch_codes(np.atleast_2d(queries), self.kind.format)
        matches = usearch_search(self.codes, codes, k, self.metric, exact=True, threads=self.threads,
                                 dtype=self.dtype)
        return _usearch_arrays(matches, codes.shape[0], k, self.metric)

    def serialize(self) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, self.codes, allow_pickle=False)
        return buffer.getvalue()


class _UsearchHNSW(BuiltIndex):
    """``usearch.index.Index`` (HNSW); usearch converts float32 vectors and queries to its dtype itself."""

    def __init__(self, kind: IndexKind, docs: np.ndarray, threads: int, hnsw: HNSWParams,
                 block_rows: int | None = None) -> None:
        self.kind, self.threads = kind, threads
        dtype, self.metric, bits, _ = USEARCH_FORMATS[kind.format]
        self.n, self.dims = docs.shape
        self.code_bytes = self.dims * bits / 8
        self.params = f"M={hnsw.connectivity}, ef_add={hnsw.expansion_add}, ef_search={hnsw.expansion_search}"
        start = time.perf_counter()
        self.index = UsearchIndex(ndim=self.dims, metric=self.metric, dtype=dtype, connectivity=hnsw.connectivity,
                                  expansion_add=hnsw.expansion_add, expansion_search=hnsw.expansion_search)
        for first, rows in iter_row_blocks(docs, block_rows or self.n):
            keys = np.arange(first, first + rows.shape[0], dtype=np.uint64)
            self.index.add(keys, self._prepare(rows), threads=threads)
        self.build_s = time.perf_counter() - start

    def _prepare(self, vectors: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        return binary_codes(x) if self.kind.format == "b1" else x

    def search(self, queries: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
        q = self._prepare(queries)
        matches = self.index.search(q, min(k, self.n), threads=self.threads)
        return _usearch_arrays(matches, q.shape[0], min(k, self.n), self.metric)

    def serialize(self) -> bytes:
        return bytes(self.index.save())

    def serialized_bytes(self) -> int:
        return int(self.index.serialized_length)


def pq_settings(dims: int, n_train: int) -> tuple[int, int]:
    """(sub-quantizers, bits each) of faiss PQ: dims/8 sub-quantizers (as many bytes as b1), 8 bits,
    fewer bits when the training set has under 256 vectors (k-means needs a vector per centroid)."""
    if dims % 8:
        raise ParameterError("dims", dims, "a multiple of 8 for faiss PQ (dims/8 sub-quantizers)")
    return dims // 8, max(1, min(8, int(math.floor(math.log2(max(2, n_train))))))


class _Faiss(BuiltIndex):
    """A faiss index, trained (SQ ranges, PQ codebooks) on ``train`` when it needs training."""

    def __init__(self, kind: IndexKind, docs: np.ndarray, train: np.ndarray, threads: int, hnsw: HNSWParams,
                 block_rows: int | None = None) -> None:
        self.kind, self.threads = kind, threads
        self.binary = kind.format == "b1"
        self.n, self.dims = docs.shape
        with faiss_threads(threads):
            start = time.perf_counter()
            self.index = self._make(np.asarray(train, dtype=np.float32), hnsw)
            if not self.index.is_trained:
                self.index.train(np.ascontiguousarray(train, dtype=np.float32))
            for _, rows in iter_row_blocks(docs, block_rows or self.n):
                self.index.add(self._prepare(rows))
            self.build_s = time.perf_counter() - start
        storage = faiss.downcast_index(self.index.storage) if kind.search == "hnsw" and not self.binary else self.index
        if kind.format == "pqrflat":  # PQ codes + the float32 vectors of the refine stage
            self.code_bytes = float(self._base.code_size + 4 * self.dims)
        else:
            self.code_bytes = float(storage.code_size)

    def _make(self, train: np.ndarray, hnsw: HNSWParams):
        code, _, _ = FAISS_FORMATS[self.kind.format]
        d, ip, m = self.dims, faiss.METRIC_INNER_PRODUCT, hnsw.connectivity
        if self.kind.search == "ivf" or code == "rabitq":
            return self._make_ivf_or_rabitq(code, len(train))
        if code == "binary":
            index = faiss.IndexBinaryFlat(d) if self.kind.search == "exact" else faiss.IndexBinaryHNSW(d, m)
        elif code == "pq":
            subq, nbits = pq_settings(d, len(train))
            index = faiss.IndexPQ(d, subq, nbits, ip)
            index.pq.cp.min_points_per_centroid = 1  # only silences faiss's "provide more points" warning
            self.params = f"M={subq}, nbits={nbits}, trained on {len(train)} vectors"
        elif code == "flat":
            index = faiss.IndexFlatIP(d) if self.kind.search == "exact" else faiss.IndexHNSWFlat(d, m, ip)
        else:
            qtype = getattr(faiss.ScalarQuantizer, code)
            index = (faiss.IndexScalarQuantizer(d, qtype, ip) if self.kind.search == "exact"
                     else faiss.IndexHNSWSQ(d, qtype, m, ip))
        if self.kind.search == "hnsw":
            index.hnsw.efConstruction = hnsw.expansion_add
            index.hnsw.efSearch = hnsw.expansion_search
            self.params = f"M={m}, efConstruction={hnsw.expansion_add}, efSearch={hnsw.expansion_search}"
        return index

    def _make_ivf_or_rabitq(self, code: str, n_train: int):
        """IndexRaBitQ (exact scan), or an inverted file over a flat inner-product coarse quantizer with
        ``ivf_lists`` lists, ``nprobe`` = 1/8 of them: IVF-RaBitQ, IVF-PQ (dims/8 bytes), IVF-PQ + float32 refine."""
        d, ip = self.dims, faiss.METRIC_INNER_PRODUCT
        if self.kind.search == "exact":
            index = faiss.IndexRaBitQ(d, ip)
            index.qb = RABITQ_QB
            self.params = f"qb={RABITQ_QB}"
            return index
        nlist, nprobe = ivf_lists(self.n, n_train)
        self._quantizer = faiss.IndexFlatIP(d)  # kept alive beside the index that points to it
        if code == "rabitq":
            index = faiss.IndexIVFRaBitQ(self._quantizer, d, nlist, ip)
            index.qb = RABITQ_QB
            self.params = f"nlist={nlist}, nprobe={nprobe}, qb={RABITQ_QB}"
        else:
            subq, nbits = pq_settings(d, n_train)
            index = faiss.IndexIVFPQ(self._quantizer, d, nlist, subq, nbits, ip)
            index.pq.cp.min_points_per_centroid = 1
            self.params = f"nlist={nlist}, nprobe={nprobe}, M={subq}, nbits={nbits}"
        index.nprobe = nprobe
        index.cp.min_points_per_centroid = 1
        if code == "pqrflat":
            self._base = index
            index = faiss.IndexRefineFlat(index)
            index.k_factor = REFINE_FACTOR
            self.params += f", refine float32 x{REFINE_FACTOR}"
        return index

    def _prepare(self, vectors: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        return binary_codes(x) if self.binary else x

    def search(self, queries: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
        with faiss_threads(self.threads):
            distances, indices = self.index.search(self._prepare(queries), min(k, self.n))
        scores = -distances.astype(np.float32) if self.binary else distances.astype(np.float32)
        return indices.astype(np.int64), np.where(indices >= 0, scores, -np.inf).astype(np.float32)

    def serialize(self) -> bytes:
        writer = faiss.serialize_index_binary if self.binary else faiss.serialize_index
        return writer(self.index).tobytes()

    def serialized_bytes(self) -> int:
        total = 0

        def count(chunk: bytes) -> int:
            nonlocal total
            total += len(chunk)
            return len(chunk)

        (faiss.write_index_binary if self.binary else faiss.write_index)(self.index, faiss.PyCallbackIOWriter(count))
        return total

    def decoded_docs(self) -> np.ndarray | None:
        if self.binary:
            return None
        if self.kind.search == "ivf" and self.kind.format != "pqrflat":
            self.index.make_direct_map()
        return self.index.reconstruct_n(0, self.n)


def ivf_lists(n_docs: int, n_train: int) -> tuple[int, int]:
    """(lists, lists probed) of an inverted file: about √N lists (at most one per 39 training vectors, faiss'
    k-means floor, and at least 1), and 1/8 of them probed (at least 1)."""
    nlist = max(1, min(int(round(math.sqrt(n_docs))), n_train // 39))
    return nlist, max(1, math.ceil(nlist / 8))


def build_index(
    name: str,
    docs: np.ndarray,
    *,
    train: np.ndarray | None = None,
    threads: int = 1,
    hnsw: HNSWParams | None = None,
    block_rows: int | None = None,
) -> BuiltIndex:
    """Build index kind ``name`` over unit-norm ``docs`` (float32); ``train`` (default: the docs) trains
    faiss SQ ranges and PQ codebooks. Deterministic with ``threads=1`` (HNSW insertion is parallel otherwise).

    HNSW and faiss indexes take the documents ``block_rows`` at a time (default: all at once); the pages
    of a memory-mapped ``docs`` are released after each block, so the corpus itself does not stay resident."""
    kind = get_kind(name)
    if not (isinstance(docs, np.memmap) and docs.dtype == np.float32 and docs.flags.c_contiguous):
        docs = np.ascontiguousarray(docs, dtype=np.float32)
    if docs.ndim != 2 or docs.shape[0] == 0:
        raise ParameterError("docs", f"array of shape {docs.shape}", "a non-empty 2-D array (n, dims)")
    hnsw = hnsw or HNSWParams()
    if kind.library == "usearch":
        if kind.search == "exact":
            return _UsearchExact(kind, docs, threads)
        return _UsearchHNSW(kind, docs, threads, hnsw, block_rows)
    return _Faiss(kind, docs, docs if train is None else train, threads, hnsw, block_rows)


# --- simulated counterpart, timing, evaluation --------------------------------------------------


def reference_search(index: BuiltIndex, docs: np.ndarray, queries: np.ndarray, doc_ids: list[str], k: int = K
                     ) -> SearchResult:
    """Our simulated evaluator on vectors coded like ``index``'s (see each kind's ``reference``)."""
    kind = index.kind
    if kind.format == "b1":
        return hamming_search(binary_codes(queries), binary_codes(docs), doc_ids, k)
    if kind.library == "usearch":
        if kind.format == "i8":
            return search(usearch_i8(queries).astype(np.float32), usearch_i8(docs).astype(np.float32), doc_ids, k)
        x = (lambda v: np.clip(v, -E4M3_MAX, E4M3_MAX)) if kind.format == "e4m3" else (lambda v: v)
        return search(round_trip(x(queries), kind.paper_format), round_trip(x(docs), kind.paper_format), doc_ids, k)
    decoded = round_trip(docs, kind.paper_format) if kind.paper_format else index.decoded_docs()
    return search(queries, decoded, doc_ids, k)


def measure_qps(index: BuiltIndex, queries: np.ndarray, batch: int, repeats: int = 3, max_queries: int = 100,
                k: int = K) -> float:
    """Median queries per second over ``repeats`` timed runs, after one warm-up search.

    Batch 1: up to ``max_queries`` queries, one search call each. Batch b > 1: one call with b queries
    (the queries repeated cyclically when there are fewer than b).
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if batch == 1:
        sample = queries[:max_queries]
        calls = [sample[i : i + 1] for i in range(len(sample))]
    else:
        calls = [queries[np.arange(batch) % len(queries)]]
    index.search(calls[0], k)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for block in calls:
            index.search(block, k)
        times.append(time.perf_counter() - start)
    return sum(len(c) for c in calls) / statistics.median(times)


def agreement(indices: np.ndarray, scores: np.ndarray, ref: SearchResult) -> tuple[float, float]:
    """(mean share of the reference's top-k also in the index's top-k, largest difference between the
    rank-wise score lists). The score comparison is blind to the order of tied documents."""
    overlap = float(neighbour_recall(indices, ref.indices).mean())
    ours = np.sort(np.where(indices >= 0, scores, np.nan), axis=1)[:, ::-1]
    diff = np.abs(ours - ref.scores[:, : ours.shape[1]])
    return overlap, float(np.nanmax(diff)) if np.isfinite(diff).any() else float("nan")
