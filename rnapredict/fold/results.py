"""What a batch reports: one :class:`RecordOutcome` per record, a :class:`BatchResult` overall."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnapredict.errors import EXIT_OK, EXIT_SOME_FAILED
from rnapredict.io.textio import printable
from rnapredict.results.summary import SummaryRow


@dataclass(frozen=True)
class RecordOutcome:
    """The result of one record.

    Attributes:
        id: original record id (None if the record had no readable id).
        index: 0-based position in the input stream.
        status: ``ok``, ``failed`` or ``skipped`` (complete from an earlier run, ``--resume``).
        name: output directory name under ``OUT``, or None when nothing was written.
        length: sequence length (nt), or -1 if unknown.
        mean_plddt / ptm: confidence of the best model (None unless ok/skipped).
        time_s: wall seconds the record's fold took (skipped: as recorded when it was folded).
        files: model file names of the ranked models, rank order, all formats.
        relax_failed: number of models whose relaxation failed (kept unrelaxed).
        n_models: number of models written.
        error: one-line error message of a failed record.
        notes: remarks on an ok record (e.g. written as mmCIF because PDB cannot hold it).
    """

    id: str | None
    index: int
    status: str
    name: str | None = None
    length: int = -1
    mean_plddt: float | None = None
    ptm: float | None = None
    time_s: float = 0.0
    files: tuple[str, ...] = ()
    relax_failed: int = 0
    n_models: int = 0
    relaxed: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Counts toward exit code 3: the record failed or some of its models stayed unrelaxed."""
        return self.status == "failed" or self.relax_failed > 0

    def relax_label(self) -> str:
        if not self.relaxed:
            return "-"
        return "ok" if self.relax_failed == 0 else f"failed {self.relax_failed}/{self.n_models}"

    def summary_row(self) -> SummaryRow:
        """This outcome as a ``summary.tsv`` row (a skipped record keeps status ``ok``)."""
        return SummaryRow(
            id=printable(self.id) if self.id is not None else "-",
            length=self.length,
            status="failed" if self.status == "failed" else "ok",
            mean_plddt=self.mean_plddt,
            time_s=self.time_s,
            name=self.name or "-",
            index=self.index,
            ptm=self.ptm,
            relax=self.relax_label(),
            error=printable(self.error) if self.error else "-",
            templates=",".join(self.templates) or "-",
        )

    def to_json(self, out_dir: Path) -> dict[str, Any]:
        """The ``--json`` line for this record (the original id, unescaped)."""
        directory = str(out_dir / self.name) if self.name else None
        return {
            "id": self.id,
            "index": self.index,
            "status": self.status,
            "name": self.name,
            "dir": directory,
            "length": self.length if self.length >= 0 else None,
            "mean_plddt": self.mean_plddt,
            "ptm": self.ptm,
            "time_s": round(self.time_s, 3),
            "models": [str(Path(directory) / f) for f in self.files] if directory else [],
            "relax": self.relax_label(),
            "error": self.error,
            "notes": list(self.notes),
            "templates": list(self.templates),
        }


@dataclass
class BatchResult:
    """Counts over the records this run (this shard) looked at; no per-record state is kept,
    so memory stays flat however long the input is."""

    out_dir: Path
    total: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    relax_failed: int = 0
    elapsed_s: float = 0.0
    first_failures: list[str] = field(default_factory=list)

    def add(self, outcome: RecordOutcome) -> None:
        self.total += 1
        if outcome.status == "ok":
            self.ok += 1
        elif outcome.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
        if outcome.relax_failed:
            self.relax_failed += 1
        if outcome.failed and len(self.first_failures) < 5:
            self.first_failures.append(printable(outcome.id or "?"))

    @property
    def exit_code(self) -> int:
        """0 if every record succeeded (relaxation included), 3 if some failed."""
        return EXIT_SOME_FAILED if self.failed or self.relax_failed else EXIT_OK

    def line(self) -> str:
        """One-line human summary."""
        parts = [f"{self.ok} folded", f"{self.failed} failed"]
        if self.skipped:
            parts.append(f"{self.skipped} already complete")
        if self.relax_failed:
            parts.append(f"{self.relax_failed} with unrelaxed models")
        return (
            f"{records(self.total)}: " + ", ".join(parts) + f" in {self.elapsed_s:.1f} s "
            f"→ {self.out_dir}"
        )


def records(n: int) -> str:
    """``1 record``, ``2 records`` (and ``0 records``)."""
    return f"{n} record" if n == 1 else f"{n} records"
