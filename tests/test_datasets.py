"""Loading and validating BEIR folders; the online MTEB loader fails clearly offline."""

import gzip
import json
import shutil

import pytest

from study.core.errors import DatasetError, ParameterError
from study.data.datasets import list_collections, load_collection


def write_beir(folder, corpus, queries, qrels, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(c if isinstance(c, str) else json.dumps(c) + "\n" for c in corpus)
    if gz:
        with gzip.open(folder / "corpus.jsonl.gz", "wt") as fh:
            fh.write(lines)
    else:
        (folder / "corpus.jsonl").write_text(lines)
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels").mkdir(exist_ok=True)
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels)
    )
    return folder


DOCS = [{"_id": "d1", "title": "T", "text": "one"}, {"_id": "d2", "title": "", "text": "two"}]
QUERIES = [{"_id": "q1", "text": "first"}, {"_id": "q2", "text": "second"}]


def test_shared_collections_are_listed():
    names = list_collections()
    assert {"scifact", "nfcorpus", "mlquestions", "adi"} <= set(names)


def test_load_by_name_joins_title_and_text_like_mteb():
    c = load_collection("adi")
    assert len(c.doc_ids) == 82 and len(c.split_query_ids("test")) == 35
    assert all(t == t.strip() for t in c.doc_texts)


def test_load_by_path_and_gzip(tmp_path):
    folder = write_beir(tmp_path / "mini", DOCS, QUERIES, [("q1", "d1", 1), ("q2", "d2", 2)], gz=True)
    c = load_collection(str(folder))
    assert c.doc_texts == ["T one", "two"]
    assert c.split_qrels("test") == {"q1": {"d1": 1}, "q2": {"d2": 2}}


def test_checksum_changes_with_content(tmp_path):
    a = load_collection(str(write_beir(tmp_path / "a", DOCS, QUERIES, [("q1", "d1", 1)])))
    b = load_collection(str(write_beir(tmp_path / "b", DOCS[:1], QUERIES, [("q1", "d1", 1)])))
    assert a.checksum != b.checksum


def test_malformed_json_line_names_file_and_line(tmp_path):
    folder = write_beir(tmp_path / "bad", [json.dumps(DOCS[0]) + "\n", "{not json\n"], QUERIES, [("q1", "d1", 1)])
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:2: malformed JSON"):
        load_collection(str(folder))


def test_duplicate_ids_are_an_error(tmp_path):
    folder = write_beir(tmp_path / "dup", [DOCS[0], DOCS[0]], QUERIES, [("q1", "d1", 1)])
    with pytest.raises(DatasetError, match="duplicate id 'd1'"):
        load_collection(str(folder))


def test_empty_corpus_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="empty corpus"):
        load_collection(str(write_beir(tmp_path / "empty", [], QUERIES, [("q1", "d1", 1)])))


def test_judgments_naming_unknown_documents_or_queries_are_counted_and_dropped(tmp_path, caplog):
    qrels = [("q1", "d1", 1), ("q1", "nope", 1), ("q9", "d2", 1), ("q2", "d2", 0)]
    c = load_collection(str(write_beir(tmp_path / "unk", DOCS, QUERIES, qrels)))
    assert c.problems["test:qrels_unknown_doc"] == 1
    assert c.problems["test:qrels_unknown_query"] == 1
    # q2 has no positive judgment: it is not evaluated (as in pytrec_eval)
    assert c.split_query_ids("test") == ["q1"]
    assert "judgments dropped" in caplog.text


def test_unknown_name_lists_the_allowed_values():
    with pytest.raises(ParameterError, match="'dataset'.*scifact"):
        load_collection("no-such-collection")


def test_unknown_split_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'split'"):
        load_collection("adi").split_qrels("train")


def test_data_root_can_be_overridden(tmp_path, monkeypatch):
    shutil.copytree(write_beir(tmp_path / "src" / "mini", DOCS, QUERIES, [("q1", "d1", 1)]), tmp_path / "root" / "x")
    monkeypatch.setenv("STUDY_DATA_DIR", str(tmp_path / "root"))
    assert list_collections() == ["x"]
    assert load_collection("x").name == "x"


def test_mteb_task_offline_fails_with_a_clear_message():
    with pytest.raises(DatasetError, match="need network access"):
        load_collection("mteb:SciFact")
