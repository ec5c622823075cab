"""Exception types of rnapredict.

Every error a user can cause is one of these; the CLI prints ``str(err)`` as one line and exits
with ``err.exit_code`` (no traceback unless ``--debug``). Per docs/DESIGN.md:

- :class:`RecordError` — a problem inside one input record (illegal character, bad structure
  line, duplicate id). That record fails alone; the batch goes on and exits 3 at the end.
- :class:`OutputWriteError` — writing outputs failed mid-batch (disk full, I/O error): the
  batch stops, finished records are kept, exit 4 (rerun with ``--resume``).
- everything else — the invocation or the input as a whole is unusable: exit 2 before any work.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_SOME_FAILED = 3
EXIT_OUTPUT_FAILED = 4


def _locate(file: str | None, record: str | None, position: int | None, line: int | None) -> str:
    parts: list[str] = []
    if file is not None:
        parts.append(str(file))
    if record is not None:
        parts.append(f"record '{record}'")
    if line is not None:
        parts.append(f"line {line}")
    if position is not None:
        parts.append(f"position {position}")
    return ", ".join(parts)


class RnapredictError(Exception):
    """Base class: a user-facing error with an optional location.

    Args:
        message: what is wrong, phrased for the user.
        file: the file it is in ("-" / "<stdin>" for standard input).
        record: the record id it is in.
        position: 1-based position in the sequence / structure string.
        line: 1-based line number in the file.
    """

    exit_code: int = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | None = None,
        position: int | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.record = record
        self.position = position
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = _locate(self.file, self.record, self.position, self.line)
        return f"{where}: {self.message}" if where else self.message


class InputError(RnapredictError):
    """The input as a whole is unusable (missing file, not FASTA, unreadable): exit 2."""


class RecordError(RnapredictError):
    """One record is bad; it fails alone and the batch continues (exit 3 at the end)."""

    exit_code = EXIT_SOME_FAILED
    #: 0-based ordinal of the failed record in the input stream (set by the input reader).
    index: int | None = None
    #: Output directory name of the failed record (set by the input reader); None when it
    #: has none of its own (no id, or a duplicate id whose directory belongs to another record).
    safe_name: str | None = None
    #: Length of the record's sequence as written (nt; set by the input reader), if known.
    length: int | None = None


class SecondaryStructureError(RecordError):
    """A secondary structure (dot-bracket, BPSEQ, CT) is malformed or does not fit its sequence."""


class StructureError(RnapredictError):
    """A 3D structure file is empty, malformed, has no RNA, or cannot be written as asked."""


class OutputExistsError(RnapredictError):
    """An output exists and neither ``--overwrite`` nor ``--resume`` was given."""


class OutputWriteError(RnapredictError):
    """Writing an output failed during a batch (disk full, quota, I/O error): exit 4."""

    exit_code = EXIT_OUTPUT_FAILED


class WeightsError(RnapredictError):
    """Model weights are missing, truncated, do not match their manifest, or are not safetensors."""


class ScoringError(RnapredictError):
    """Model and reference cannot be compared (no common residues, missing atoms, ...)."""


class RelaxError(RnapredictError):
    """Energy minimization failed for one model (the unrelaxed model is kept)."""

    exit_code = EXIT_SOME_FAILED
