"""Errors the study raises for bad input: one clear line, naming what is wrong."""

from __future__ import annotations

from collections.abc import Iterable


class StudyError(Exception):
    """Base class: an error a user can fix, printed as one line by the CLI and notebooks."""


class ParameterError(StudyError, ValueError):
    """A parameter has a value outside its allowed set or range."""

    def __init__(self, name: str, value: object, allowed: Iterable[object] | str) -> None:
        allowed_text = allowed if isinstance(allowed, str) else ", ".join(map(str, allowed))
        super().__init__(f"parameter {name!r}: invalid value {value!r}; allowed: {allowed_text}")
        self.name = name
        self.value = value


class DatasetError(StudyError):
    """A collection is missing, malformed or cannot be loaded."""


class CacheError(StudyError):
    """An embedding cache entry is stale, truncated or corrupt."""
