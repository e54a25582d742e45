"""One-line checks of a value that any layer uses (a choice, a list, a fraction): ``ParameterError`` names the
parameter and what is allowed. A leaf, like ``study.core.names``, so that the experiment runner's code fingerprint
leaves out the profiles' and the parameters' modules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from study.core.errors import ParameterError


def as_list(name: str, value: Any) -> list:
    """Accept a list, or a JSON/YAML list given as a string (papermill ``-p x '[...]'``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ParameterError(name, value, "a JSON list such as '[\"scifact\", \"nfcorpus\"]'") from None
        else:
            value = [text]
    if not isinstance(value, list | tuple) or not value:
        raise ParameterError(name, value, "a non-empty list")
    return list(value)


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    if value not in allowed:
        raise ParameterError(name, value, allowed)
    return value


def check_fraction(value: Any, name: str = "fraction") -> float:
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a number in (0, 1]") from None
    if not 0 < fraction <= 1:
        raise ParameterError(name, value, "a number in (0, 1]")
    return fraction
