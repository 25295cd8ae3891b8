"""Rich progress bars that long jobs drive through a ``progress(step, done, total)`` callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from custodia.cli.output import stderr_console

ProgressFn = Callable[[str, int, int], None]


@contextmanager
def progress_bars(*titles: str, enabled: bool = True) -> Iterator[list[ProgressFn]]:
    """Bars on stderr (stdout stays clean for --json), one per title, in one live display;
    yields the callbacks to pass down, in the same order."""
    if not enabled:
        yield [_silent for _ in titles]
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]:<9}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=False) as bar:
        yield [_updater(bar, bar.add_task("", total=None, title=title)) for title in titles]


@contextmanager
def progress_bar(title: str, *, enabled: bool = True) -> Iterator[ProgressFn]:
    """One bar; see :func:`progress_bars`."""
    with progress_bars(title, enabled=enabled) as (update,):
        yield update


def _updater(bar: Progress, task: TaskID) -> ProgressFn:
    def update(step: str, done: int, total: int) -> None:
        bar.update(task, description=step, completed=done, total=max(total, 1))

    return update


def _silent(_step: str, _done: int, _total: int) -> None:
    return None
