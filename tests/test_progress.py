"""Progress bars go to the terminal, never into a saved notebook (``study.core.progress``)."""

from __future__ import annotations

import os
import sys

from study.core import progress


def test_outside_a_kernel_the_bar_is_on_stderr(capsys):
    list(progress.progress_bar(range(3), desc="counting", unit="item"))
    err = capsys.readouterr().err
    assert "counting" in err and "3/3" in err
    list(progress.progress_bar(range(3), desc="quiet", disable=True))
    assert "quiet" not in capsys.readouterr().err


class _KernelStream:
    """What ipykernel puts in sys.stderr: a cell's output, with a copy of the terminal's descriptor."""

    def __init__(self, fd: int | None) -> None:
        self.written = []
        if fd is not None:
            self._original_stdstream_copy = fd

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_in_a_kernel_the_bar_goes_to_the_terminal_not_the_cell(monkeypatch):
    read, write = os.pipe()
    cell = _KernelStream(write)
    monkeypatch.setattr(sys, "stderr", cell)
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    list(progress.progress_bar(range(4), desc="in-kernel", unit="item"))
    progress._terminal(write).flush()
    os.close(write)
    terminal = os.read(read, 65536).decode()
    assert "in-kernel" in terminal and "4/4" in terminal
    assert cell.written == []


def test_in_a_kernel_without_the_terminal_the_bar_is_off(monkeypatch):
    cell = _KernelStream(None)
    monkeypatch.setattr(sys, "stderr", cell)
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    assert list(progress.progress_bar(range(2), desc="nowhere")) == [0, 1]
    assert cell.written == []


def test_a_plain_stream_is_not_a_kernel(monkeypatch):
    assert not progress.in_kernel()  # pytest's captured stderr
