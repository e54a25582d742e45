"""Profiles (config/*.yaml) and notebook parameters: load, validate, fail with one clear line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from study.core.checks import as_list, check_choice, check_fraction  # noqa: F401  (re-exported)
from study.core.errors import ParameterError
from study.core.names import ADVISE_FORMATS  # noqa: F401  (re-exported)
from study.core.paths import REPO_ROOT
from study.core.profiles import PAPER_SET, POOL, SELF, UNTRAINED  # noqa: F401  (re-exported: the names every stage uses)
from study.data.datasets import MTEB_PREFIX, list_collections
from study.encoders.registry import MODELS

CONFIG_DIR = REPO_ROOT / "config"


def list_profiles() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> dict[str, Any]:
    path = Path(name_or_path)
    if not path.is_file():  # a profile name (a folder such as paper/ is not a profile)
        path = CONFIG_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ParameterError("profile", str(name_or_path), list_profiles())
    return yaml.safe_load(path.read_text())


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``, nested mappings merged key by key (Snakemake's ``update_config``)."""
    out = dict(base)
    for key, value in override.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def workflow_config(name_or_path: str | Path) -> dict[str, Any]:
    """A profile as the workflow runs it: ``config/default.yaml`` (the Snakefile's configfile), then the profile."""
    return _merged(load_profile("default"), load_profile(name_or_path))


def check_choices(name: str, values: Any, allowed: Sequence[Any]) -> list:
    values = as_list(name, values)
    for v in values:
        if v not in allowed:
            raise ParameterError(name, v, allowed)
    return values


def check_model(value: Any) -> str:
    return check_choice("model", value, sorted(MODELS))


def check_models(values: Any) -> list[str]:
    return check_choices("models", values, sorted(MODELS))


def _dataset_allowed(value: str, known: Iterable[str]) -> bool:
    return value in known or value.startswith(MTEB_PREFIX) or Path(value).is_dir()


def check_datasets(values: Any, name: str = "datasets") -> list[str]:
    values = as_list(name, values)
    known = list_collections()
    for v in values:
        if not isinstance(v, str) or not _dataset_allowed(v, known):
            raise ParameterError(name, v, known + ["mteb:<Task>", "<path to a BEIR folder>"])
    return values


def check_reference_set(name: str, value: Any, pool: bool = False) -> str:
    """A collection to calibrate or fit on, or ``self`` (the evaluated corpus); with ``pool``, also ``pool``."""
    known = list_collections()
    if value == SELF or (isinstance(value, str) and _dataset_allowed(value, known)):
        return value
    raise ParameterError(name, value, [SELF, *([POOL] if pool else []), *known])


def check_seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError("seed", value, "a non-negative integer")
    return value


def check_profile_name(value: Any) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise ParameterError("profile", value, "a folder name such as 'default', 'full' or 'tiny'")
    return value


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(name, value, "a positive integer")
    return value


def check_datasets_per_model(value: Any, models: list[str]) -> dict[str, list[str]]:
    """Optional per-model collection lists: ``{model: [collections]}`` (empty = all for every model)."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except json.JSONDecodeError:
            raise ParameterError("datasets_per_model", value, "a JSON object {model: [collections]}") from None
    if not isinstance(value, dict):
        raise ParameterError("datasets_per_model", value, "an object {model: [collections]}")
    for model in value:
        check_choice("datasets_per_model", model, models)
    return {m: check_datasets(v, "datasets_per_model") for m, v in value.items()}
