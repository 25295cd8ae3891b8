"""Saving a model with its metadata and loading it back; refusing altered files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custodia.collect.text_mining import (
    CorpusInfo,
    LabelledText,
    ModelMetadata,
    TextModel,
    describe_corpus,
    library_versions,
    load_text_model,
    save_text_model,
    text_model_exists,
)
from custodia.core.errors import WorkspaceError

SAMPLES = ["快递太慢了，等了八天", "The zipper broke on day one", "请问有会员折扣吗"]


def metadata_for(corpus: list[LabelledText]) -> ModelMetadata:
    return ModelMetadata(
        trained_at="2026-11-24T00:00:00+00:00",
        training_seed=5,
        corpus=CorpusInfo(kind="demo", seed=5, customers=300, texts=len(corpus),
                          per_language=describe_corpus(corpus)),
        complaint_labels=[], sentiment_labels=[], tokenizer_words=[], validation={},
        train_texts=len(corpus), holdout_texts=0, training_seconds=0.0,
        versions=library_versions(),
    )  # fmt: skip


def test_round_trip_keeps_predictions_and_metadata(
    tmp_path: Path, small_model: TextModel, train_corpus: list[LabelledText]
) -> None:
    stored = save_text_model(small_model, metadata_for(train_corpus), tmp_path / "model")
    assert text_model_exists(tmp_path / "model")
    loaded, metadata = load_text_model(tmp_path / "model")
    assert loaded.predict(SAMPLES) == small_model.predict(SAMPLES)
    assert metadata == stored
    assert metadata.tokenizer_words == list(small_model.tokenizer.extra_words)
    assert metadata.versions["scikit-learn"] != "absent"
    assert len(metadata.sha256) == 64


def test_a_missing_model_names_the_command_to_train(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="custodia text train"):
        load_text_model(tmp_path / "nothing")


def test_an_altered_model_file_is_refused(
    tmp_path: Path, small_model: TextModel, train_corpus: list[LabelledText]
) -> None:
    folder = tmp_path / "model"
    save_text_model(small_model, metadata_for(train_corpus), folder)
    blob = (folder / "model.skops").read_bytes()
    (folder / "model.skops").write_bytes(blob[:-10] + b"0123456789")
    with pytest.raises(WorkspaceError, match="does not match its metadata"):
        load_text_model(folder)


def test_an_untrusted_object_is_refused_even_with_a_matching_digest(
    tmp_path: Path, small_model: TextModel, train_corpus: list[LabelledText]
) -> None:
    import hashlib

    import skops.io as sio

    folder = tmp_path / "model"
    save_text_model(small_model, metadata_for(train_corpus), folder)
    hostile = sio.dumps({"format": 1, "features": Path("/etc/passwd")})
    (folder / "model.skops").write_bytes(hostile)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["sha256"] = hashlib.sha256(hostile).hexdigest()
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(WorkspaceError, match="cannot be loaded"):
        load_text_model(folder)


def test_unreadable_metadata_is_reported(
    tmp_path: Path, small_model: TextModel, train_corpus: list[LabelledText]
) -> None:
    folder = tmp_path / "model"
    save_text_model(small_model, metadata_for(train_corpus), folder)
    (folder / "metadata.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match="unreadable"):
        load_text_model(folder)
