"""Progress bars on the terminal, never in a saved notebook.

In a Jupyter kernel (papermill's included) ``sys.stderr`` is the cell's output, and ipykernel also captures the
process's file descriptor 2: every tqdm update would become a line of the executed notebook. There the bars are
written to the copy of the terminal's stderr that ipykernel keeps (``OutStream._original_stdstream_copy``, a
private attribute: no public API exposes it), so they show in the terminal or log that started the kernel; where
ipykernel keeps no copy the bars are off. Elsewhere they go to ``sys.stderr`` as tqdm's do. Hand-written because
tqdm and ipykernel offer no switch for this.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from functools import cache
from typing import IO, Any

from tqdm import tqdm


def in_kernel() -> bool:
    """Whether ``sys.stderr`` is a Jupyter kernel's output stream (a cell's output)."""
    iostream = sys.modules.get("ipykernel.iostream")
    return iostream is not None and isinstance(sys.stderr, iostream.OutStream)


@cache
def _terminal(fd: int) -> IO[str]:
    return os.fdopen(os.dup(fd), "w", buffering=1)


def progress_bar(iterable: Iterable | None = None, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, **kwargs)``, on the terminal's stderr inside a kernel (off where there is none)."""
    if in_kernel():
        fd = getattr(sys.stderr, "_original_stdstream_copy", None)
        if fd is None:
            kwargs["disable"] = True
        else:
            kwargs["file"] = _terminal(fd)
    return tqdm(iterable, **kwargs)
