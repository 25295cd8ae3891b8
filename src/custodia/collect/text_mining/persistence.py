"""Saving and loading a text model: skops for the estimators, JSON for what produced them.

Why skops and not pickle: a model file in a workspace should not be able to run code when it
is loaded. skops stores the estimators as data and refuses any type it does not trust; the model
holds only scikit-learn, scipy and numpy objects, so nothing needs to be trusted by hand. The
metadata (corpus, seed, held-out metrics, library versions, file digest) sits beside it, so a run
can be reproduced and a corrupt or swapped file is refused.

Layout of the model folder::

    model.skops      the fitted feature union and classifiers
    metadata.json    ModelMetadata

Example::

    save_text_model(model, metadata, home / "models" / "text_mining")
    model, metadata = load_text_model(home / "models" / "text_mining")
"""

from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata as dist_metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from custodia.collect.text_mining.evaluate import LabelScores
from custodia.collect.text_mining.model import MODEL_FORMAT, TextModel
from custodia.collect.text_mining.tokenize import TextTokenizer
from custodia.core.errors import WorkspaceError

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
_LIBRARIES = ("custodia", "scikit-learn", "scipy", "numpy", "jieba", "skops")


class CorpusInfo(BaseModel):
    """Where the training texts came from."""

    kind: str = Field(description="demo (generated) or file (a labelled folder or CSV).")
    seed: int | None = Field(default=None, description="Generator seed of a demo corpus.")
    customers: int | None = Field(default=None, description="Customers of a demo corpus.")
    path: str | None = Field(default=None, description="Folder or file of a file corpus.")
    texts: int
    per_language: dict[str, dict[str, int]] = Field(
        description="Texts per language and complaint type."
    )


class ModelMetadata(BaseModel):
    """Everything needed to know what a saved model is and to train it again."""

    format: int = MODEL_FORMAT
    trained_at: str
    training_seed: int
    corpus: CorpusInfo
    complaint_labels: list[str]
    sentiment_labels: list[str]
    tokenizer_words: list[str]
    validation: dict[str, dict[str, LabelScores]] = Field(
        description="Held-out scores per target (complaint_type, sentiment) and language."
    )
    train_texts: int
    holdout_texts: int
    lexicon_texts: int = Field(default=0, description="Rule phrases added as examples.")
    training_seconds: float
    versions: dict[str, str] = Field(default_factory=dict)
    sha256: str = Field(default="", description="Digest of model.skops.")


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = dist_metadata.version(name)
        except dist_metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def text_model_exists(directory: Path) -> bool:
    return (directory / MODEL_FILE).is_file() and (directory / METADATA_FILE).is_file()


def save_text_model(model: TextModel, metadata: ModelMetadata, directory: Path) -> ModelMetadata:
    """Write the model and its metadata (with the file digest); returns the stored metadata.

    Each file is written under a temporary name and renamed into place, the metadata last, so
    a reader never sees a half-written file; a crash between the two renames leaves a digest
    mismatch that :func:`load_text_model` reports.
    """
    import skops.io as sio  # type: ignore[import-untyped]

    directory.mkdir(parents=True, exist_ok=True)
    blob = sio.dumps(model.estimators())
    stored = metadata.model_copy(
        update={
            "sha256": hashlib.sha256(blob).hexdigest(),
            "tokenizer_words": list(model.tokenizer.extra_words),
        }
    )
    _write_atomic(directory / MODEL_FILE, blob)
    _write_atomic(directory / METADATA_FILE, stored.model_dump_json(indent=2).encode("utf-8"))
    return stored


def load_text_model(directory: Path) -> tuple[TextModel, ModelMetadata]:
    """Load a saved model; a missing, corrupt, altered or incompatible one is a WorkspaceError."""
    if not text_model_exists(directory):
        raise WorkspaceError(f"no text model in {directory}; run `custodia text train`")
    metadata = _read_metadata(directory)
    blob = (directory / MODEL_FILE).read_bytes()
    if hashlib.sha256(blob).hexdigest() != metadata.sha256:
        raise WorkspaceError(
            f"text model in {directory} does not match its metadata; run `custodia text train`"
        )
    parts = _load_estimators(blob, directory)
    tokenizer = TextTokenizer(metadata.tokenizer_words)
    model = TextModel(tokenizer, parts["features"], parts["complaint"], parts["sentiment"])
    return model, metadata


def _read_metadata(directory: Path) -> ModelMetadata:
    from pydantic import ValidationError as PydanticValidationError

    try:
        metadata = ModelMetadata.model_validate_json((directory / METADATA_FILE).read_bytes())
    except (OSError, PydanticValidationError):
        raise WorkspaceError(
            f"text model metadata in {directory} is unreadable; run `custodia text train`"
        ) from None
    if metadata.format != MODEL_FORMAT:
        raise WorkspaceError(
            f"text model in {directory} has format {metadata.format}, this Custodia reads "
            f"{MODEL_FORMAT}; run `custodia text train`"
        )
    return metadata


def _load_estimators(blob: bytes, directory: Path) -> dict[str, Any]:
    import skops.io as sio

    try:
        parts: Any = sio.loads(blob)  # trusts nothing beyond skops' defaults
    except Exception as exc:  # skops raises UntrustedTypesFoundException, TypeError, ...
        raise WorkspaceError(
            f"text model in {directory} cannot be loaded ({type(exc).__name__}); "
            "run `custodia text train`"
        ) from None
    if not isinstance(parts, dict) or parts.get("format") != MODEL_FORMAT:
        raise WorkspaceError(f"text model in {directory} has an unknown layout")
    return parts


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
