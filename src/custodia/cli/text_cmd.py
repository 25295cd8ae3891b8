"""``custodia text``: train the text model, tag interactions, try texts, manage rules.

Commands::

    custodia --home H text tag [--full] [--json]
    custodia --home H text train [--seed S] [--customers N] [--corpus PATH] [--json]
    custodia --home H text try "快递太慢了" [--language zh] [--json]
    custodia --home H text config [--write]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.cli.progress import progress_bar

if TYPE_CHECKING:
    from custodia.collect.text_mining import ModelMetadata
    from custodia.pipeline.interaction_tags import TagReport

text_app = typer.Typer(help="Text mining of service interactions: model, tags and rules.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(text_app, name="text")


@text_app.command("tag")
def tag(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Re-tag every interaction, not only untagged ones.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Tag interactions with complaint type, sentiment and products (trains a model if none)."""
    from custodia.pipeline.interaction_tags import tag_interactions

    with state(ctx).open_workspace() as ws, progress_bar("text", enabled=not json_out) as bar:
        report = tag_interactions(ws, full=full, progress=bar)
    if json_out:
        print_json(report.model_dump(mode="json"))
    else:
        _print_tag_report(report)


@text_app.command("train")
def train(
    ctx: typer.Context,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Corpus seed.")] = None,
    customers: Annotated[
        int | None,
        typer.Option("--customers", min=50, max=200_000, help="Customers of the demo corpus."),
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="A demo data folder or a labelled CSV instead of the demo."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Train the text model on a generated demo corpus (or --corpus) and save it."""
    from custodia.pipeline.text_model import (
        DEFAULT_TRAINING_CUSTOMERS,
        DEFAULT_TRAINING_SEED,
        train_text_model,
    )

    with state(ctx).open_workspace() as ws, progress_bar("train", enabled=not json_out) as bar:
        metadata = train_text_model(
            ws,
            seed=DEFAULT_TRAINING_SEED if seed is None else seed,
            customers=customers or DEFAULT_TRAINING_CUSTOMERS,
            corpus_path=corpus,
            progress=bar,
        )
    if json_out:
        print_json(metadata.model_dump(mode="json"))
    else:
        _print_metadata(metadata)


@text_app.command("try")
def try_text(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The text to tag.")],
    language: Annotated[str | None, typer.Option("--language", help="zh or en.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Tag one text with the workspace's model and rules (nothing is stored)."""
    from custodia.collect.text_mining import TextInput
    from custodia.pipeline.interaction_tags import workspace_tagger

    with state(ctx).open_workspace() as ws, progress_bar("train", enabled=not json_out) as bar:
        tagger, _metadata, _trained = workspace_tagger(ws, progress=bar)
    [result] = tagger.tag([TextInput(text, language)])
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    table = Table(title="Text tags", show_header=False)
    for key, value in result.model_dump().items():
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    stdout_console().print(table)


@text_app.command("config")
def config(
    ctx: typer.Context,
    write: Annotated[
        bool, typer.Option("--write", help="Copy the shipped defaults to HOME/config to edit.")
    ] = False,
) -> None:
    """Print the shipped lexicons and rules, or copy them into the workspace to edit."""
    from custodia.collect.text_mining import default_config_text
    from custodia.core.errors import WorkspaceError
    from custodia.pipeline.text_model import text_config_path, workspace_text_config

    with state(ctx).open_workspace() as ws:
        path = text_config_path(ws)
        if not write:
            workspace_text_config(ws)  # a broken workspace file is reported here
            stdout_console().print(default_config_text(), markup=False, highlight=False)
            return
        if path.exists():
            raise WorkspaceError(f"{path} exists already; edit it, or remove it first")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
    stdout_console().print(f"Wrote {path}; edit it, then run `custodia text tag --full`.")


def _print_tag_report(report: TagReport) -> None:
    console = stdout_console()
    if report.rows_read == 0:
        console.print("No interactions to tag (use --full to re-tag tagged ones).")
        return
    if report.model_trained:
        console.print(f"Trained the default text model (corpus seed {report.model_seed}).")
    table = Table(title=f"Interactions tagged, run {report.run_id}")
    table.add_column("complaint type")
    table.add_column("texts", justify="right")
    for name, count in report.complaint_types.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    sentiments = ", ".join(f"{k} {v:,}" for k, v in report.sentiments.items())
    console.print(
        f"{report.rows_tagged:,} of {report.rows_read:,} rows tagged; sentiment: "
        f"{sentiments or '-'}; {report.products_tagged:,} mention a product."
    )


def _print_metadata(metadata: ModelMetadata) -> None:
    table = Table(title=f"Text model (held-out share of {metadata.holdout_texts:,} texts)")
    for col in ("target", "language", "texts", "macro-F1", "accuracy"):
        table.add_column(col, justify="left" if col in {"target", "language"} else "right")
    for target, by_language in metadata.validation.items():
        for language, scores in by_language.items():
            table.add_row(
                target, language, f"{scores.texts:,}", f"{scores.macro_f1:.3f}",
                f"{scores.accuracy:.3f}",
            )  # fmt: skip
    console = stdout_console()
    console.print(table)
    corpus = metadata.corpus
    origin = corpus.path or "a labelled file"
    if corpus.kind == "demo":
        origin = f"demo corpus, seed {corpus.seed}, {corpus.customers or 0:,} customers"
    console.print(
        f"Trained on {corpus.texts:,} texts ({origin}) in {metadata.training_seconds:.1f} s."
    )
