"""The demo run: generate the Lumière 霓裳 brand's sources and push them through every stage.

``custodia demo`` calls :func:`run_demo`: it writes the multi-source demo data into the workspace's
``sources/demo`` folder, places the demo mapping file beside it (a normal mapping file a user can
read and edit), loads everything in one recorded run, tags the service texts (complaint
type, sentiment, products) in a second one, resolves identities into profiles in a third,
scores the profiles against the generator's ground truth (pairwise precision and recall), runs
the cleansing steps (deduplicate, standardize, fill gaps from the golden profiles) and the
quality rules (scorecard, alerts, customer completeness before and after unification).

Example::

    report = run_demo(ws, customers=2_000, seed=7)
    report.load.sources[0].rows_landed
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
from pydantic import BaseModel

from custodia.collect.mapping_spec import load_mapping_file
from custodia.core.errors import WorkspaceError
from custodia.demo import DemoManifest, generate_demo
from custodia.pipeline.cleanse_run import CleansingReport, run_cleansing
from custodia.pipeline.identity_evaluation import ResolutionScores, evaluate_resolution
from custodia.pipeline.identity_resolve import ResolveReport, resolve_identities
from custodia.pipeline.identity_workspace import spec_path
from custodia.pipeline.interaction_tags import TagReport, tag_interactions
from custodia.pipeline.quality_run import QualityReport, run_quality
from custodia.pipeline.source_load import LoadReport, load_sources
from custodia.storage.store import WorkspaceInfo
from custodia.workspace import Workspace

Progress = Callable[[str, int, int], None]
DEMO_FOLDER = "demo"
MAPPING_FILE = "mappings.yaml"
DEMO_PARAMS_KEY = "demo.params"


class DemoReport(BaseModel):
    """What the demo generated and what the load stored."""

    sources_dir: str
    manifest: DemoManifest
    load: LoadReport
    text_tags: TagReport | None = None
    identity: ResolveReport | None = None
    identity_accuracy: ResolutionScores | None = None
    cleansing: CleansingReport | None = None
    quality: QualityReport | None = None


def _packaged(name: str) -> str:
    return resources.files("custodia.pipeline").joinpath(name).read_text("utf-8")


def demo_mapping_text() -> str:
    """The shipped mapping file for the demo sources."""
    return _packaged("demo_mappings.yaml")


def generate_demo_sources(
    out_dir: Path, *, customers: int, seed: int, progress: Progress | None = None
) -> DemoManifest:
    """(Re)generate the demo sources in ``out_dir`` and write the mapping file beside them."""
    if out_dir.exists() and (out_dir / "manifest.json").is_file():
        shutil.rmtree(out_dir)  # only ever a folder this function generated before
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = generate_demo(out_dir, customers=customers, seed=seed, progress=progress)
    (out_dir / MAPPING_FILE).write_text(demo_mapping_text(), encoding="utf-8")
    return manifest


def run_demo(
    ws: Workspace,
    *,
    customers: int,
    seed: int,
    generate_progress: Progress | None = None,
    load_progress: Progress | None = None,
) -> DemoReport:
    """Generate the demo sources into the workspace and load them end to end.

    Re-running with the same parameters is idempotent (merges by key store nothing twice). A run
    with other parameters would mix two different populations in one workspace, so it is refused.
    """
    _claim_demo_params(ws, customers=customers, seed=seed)
    out_dir = ws.sources_dir / DEMO_FOLDER
    manifest = generate_demo_sources(
        out_dir, customers=customers, seed=seed, progress=generate_progress
    )
    mappings = load_mapping_file(out_dir / MAPPING_FILE)
    load = load_sources(ws, mappings, root=out_dir, progress=load_progress, kind="demo")
    text_tags = tag_interactions(ws, progress=load_progress)
    if not spec_path(ws).exists():
        spec_path(ws).parent.mkdir(parents=True, exist_ok=True)
        spec_path(ws).write_text(_packaged("demo_identity_spec.yaml"), encoding="utf-8")
    identity = resolve_identities(ws, actor="demo", progress=load_progress)
    truth = pq.read_table(out_dir / "ground_truth" / "persons.parquet")
    accuracy = evaluate_resolution(ws, truth)
    cleansing = run_cleansing(ws, progress=load_progress)
    quality = run_quality(ws, progress=load_progress)
    return DemoReport(
        sources_dir=str(out_dir),
        manifest=manifest,
        load=load,
        text_tags=text_tags,
        identity=identity,
        identity_accuracy=accuracy,
        cleansing=cleansing,
        quality=quality,
    )


def _claim_demo_params(ws: Workspace, *, customers: int, seed: int) -> None:
    info = WorkspaceInfo(ws.store)
    wanted = f"customers={customers} seed={seed}"
    held = info.ensure(DEMO_PARAMS_KEY, wanted)
    if held != wanted:
        raise WorkspaceError(
            f"workspace {ws.home} already holds demo data generated with {held}; "
            "use the same --customers and --seed, or a new --home"
        )
