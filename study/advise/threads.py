"""BLAS and faiss pinned to a thread count for a block (``study advise --threads``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """BLAS (numpy, scikit-learn) and faiss on ``threads`` threads for the duration, then as before."""
    import faiss
    from threadpoolctl import threadpool_limits

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        faiss.omp_set_num_threads(before)
