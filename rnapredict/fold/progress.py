"""Progress reporting for a batch: rich bar on a terminal, plain lines otherwise, JSON Lines.

Reporters receive events from the runner (``start``, ``begin``, ``done``, ``finish``); logs go
to stderr, and only :class:`JsonLinesReporter` writes to stdout, so ``--json`` output can be
piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rnapredict.fold.results import BatchResult, RecordOutcome, records
from rnapredict.io.textio import printable


class Reporter(Protocol):
    """Receives batch events. ``total`` is the number of records this run will fold."""

    def start(self, total: int, skipped: int) -> None: ...

    def begin(self, index: int, record_id: str | None) -> None: ...

    def done(self, outcome: RecordOutcome) -> None: ...

    def finish(self, result: BatchResult) -> None: ...

    def warn(self, message: str) -> None: ...


class NullReporter:
    """Reports nothing (library default)."""

    def start(self, total: int, skipped: int) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def begin(self, index: int, record_id: str | None) -> None:
        pass

    def done(self, outcome: RecordOutcome) -> None:
        pass

    def finish(self, result: BatchResult) -> None:
        pass


def _describe(outcome: RecordOutcome) -> str:
    rid = printable(outcome.id or "?")
    if outcome.status == "failed":
        message = printable(outcome.error or "unknown error")
        return message if f"record '{rid}'" in message else f"record '{rid}': {message}"
    if outcome.status == "skipped":
        return f"{rid}: already complete, skipped"
    text = f"{rid}: ok, {outcome.length} nt, mean pLDDT {outcome.mean_plddt:.1f}, {outcome.time_s:.1f} s"
    if outcome.relax_failed:
        text += f", relaxation failed for {outcome.relax_failed}/{outcome.n_models} models"
    return text


class PlainReporter:
    """One plain line per record on stderr (``quiet``: failures and the final line only)."""

    def __init__(self, stream: IO[str] | None = None, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.total = 0
        self.count = 0

    def _print(self, text: str) -> None:
        stream = self.stream or sys.stderr
        print(text, file=stream, flush=True)

    def start(self, total: int, skipped: int) -> None:
        self.total = total
        if not self.quiet:
            extra = f" ({skipped} already complete)" if skipped else ""
            self._print(f"folding {records(total)}{extra}")

    def begin(self, index: int, record_id: str | None) -> None:
        pass

    def warn(self, message: str) -> None:
        if not self.quiet:
            self._print(f"warning: {printable(message)}")

    def done(self, outcome: RecordOutcome) -> None:
        if outcome.status != "skipped":
            self.count += 1
        if outcome.failed:
            self._print(f"error: {_describe(outcome)}")
        elif not self.quiet and outcome.status != "skipped":
            self._print(f"[{self.count}/{self.total}] {_describe(outcome)}")
        if not self.quiet and outcome.status == "ok":
            for note in outcome.notes:
                self._print(f"note: {printable(outcome.id or '?')}: {printable(note)}")

    def finish(self, result: BatchResult) -> None:
        if not self.quiet:  # quiet: failures only (exit code and summary.tsv say the rest)
            self._print(result.line())


class RichReporter:
    """A rich progress bar on stderr: records done/total, current id, elapsed, ETA."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]fold[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
        )
        self.task = None

    def start(self, total: int, skipped: int) -> None:
        if skipped:
            self.console.print(f"{records(skipped)} already complete, skipped", markup=False)
        self.progress.start()
        self.task = self.progress.add_task("", total=total)

    def begin(self, index: int, record_id: str | None) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=printable(record_id or "?")[:40])

    def warn(self, message: str) -> None:
        self.progress.console.print(f"warning: {printable(message)}", markup=False)

    def done(self, outcome: RecordOutcome) -> None:
        if outcome.failed:
            self.progress.console.print(f"error: {_describe(outcome)}", markup=False)
        if outcome.status == "ok":
            for note in outcome.notes:
                rid = printable(outcome.id or "?")
                self.progress.console.print(f"note: {rid}: {printable(note)}", markup=False)
        if outcome.status != "skipped" and self.task is not None:
            self.progress.advance(self.task)

    def finish(self, result: BatchResult) -> None:
        if self.task is not None:
            self.progress.update(self.task, description="done")
        self.progress.stop()
        self.console.print(result.line(), markup=False, highlight=False)


class JsonLinesReporter:
    """One JSON object per record on stdout as it completes (``--json``)."""

    def __init__(self, out_dir: Path, stream: IO[str] | None = None) -> None:
        self.out_dir = out_dir
        self.stream = stream

    def start(self, total: int, skipped: int) -> None:
        pass

    def warn(self, message: str) -> None:
        pass  # stdout holds records only; the human reporter shows warnings

    def begin(self, index: int, record_id: str | None) -> None:
        pass

    def done(self, outcome: RecordOutcome) -> None:
        stream = self.stream or sys.stdout
        stream.write(json.dumps(outcome.to_json(self.out_dir)) + "\n")
        stream.flush()

    def finish(self, result: BatchResult) -> None:
        pass


class MultiReporter:
    """Fans events out to several reporters."""

    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self.reporters = list(reporters)

    def start(self, total: int, skipped: int) -> None:
        for r in self.reporters:
            r.start(total, skipped)

    def begin(self, index: int, record_id: str | None) -> None:
        for r in self.reporters:
            r.begin(index, record_id)

    def done(self, outcome: RecordOutcome) -> None:
        for r in self.reporters:
            r.done(outcome)

    def finish(self, result: BatchResult) -> None:
        for r in self.reporters:
            r.finish(result)

    def warn(self, message: str) -> None:
        for r in self.reporters:
            warn = getattr(r, "warn", None)
            if callable(warn):
                warn(message)


def make_reporter(
    out_dir: Path, *, json_lines: bool, quiet: bool, console: Console | None = None
) -> Reporter:
    """The CLI's reporter: rich bar if stderr is a terminal (and not ``quiet``), plain lines
    otherwise; plus JSON Lines on stdout with ``json_lines``."""
    console = console or Console(stderr=True, highlight=False, soft_wrap=True)
    human: Reporter
    if console.is_terminal and not quiet:
        human = RichReporter(console)
    else:
        human = PlainReporter(quiet=quiet)
    if json_lines:
        return MultiReporter([human, JsonLinesReporter(out_dir)])
    return human
