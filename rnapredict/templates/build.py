"""``rnapredict templates build``: PDB/mmCIF files → a :class:`TemplateLibrary`.

Files are streamed one at a time (a local PDB mirror can hold tens of thousands): each worker
parses one file with gemmi and returns only its RNA chains' sequences and C1′ coordinates, so
memory grows with the library (12 bytes per residue), not with the files. A file that cannot be
read is reported and skipped.
"""

from __future__ import annotations

import csv
import gzip
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import gemmi
import numpy as np

from rnapredict.errors import InputError, StructureError
from rnapredict.prior.cutoff import entry_id
from rnapredict.templates.library import TemplateChain, TemplateLibrary

SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")
#: Chains shorter than this (nucleotides) are not worth a template.
MIN_CHAIN_LEN = 4
_REVDAT = re.compile(r"^REVDAT\s+1\s+(\d{2})-([A-Z]{3})-(\d{2})")
_MONTHS = {
    m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())
}


@dataclass
class BuildReport:
    """What a build did: files indexed, chains stored, files skipped with their reason."""

    files: int = 0
    chains: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: int = 0


def is_structure_file(path: Path) -> bool:
    return path.name.lower().removesuffix(".gz").endswith(SUFFIXES)


def iter_structure_files(inputs: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named, and structure files under directories (recursive, sorted), lazily."""
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    f = Path(root) / name
                    if is_structure_file(f):
                        yield f
        elif p.exists():
            yield p
        else:
            raise InputError("no such file or directory", file=str(p))


def entry_from_name(path: Path) -> str:
    """PDB id from a file name: ``1abc.cif.gz``, ``pdb1abc.ent.gz``, ``1ABC.pdb`` → ``1ABC``."""
    stem = path.name.split(".")[0]
    if len(stem) == 7 and stem.lower().startswith("pdb"):
        stem = stem[3:]
    return stem.upper()


def read_dates(path: str | os.PathLike[str]) -> dict[str, str]:
    """``pdb_id,release_date`` CSV → {PDB id (upper): ``YYYY-MM-DD``}."""
    out: dict[str, str] = {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"pdb_id", "release_date"} <= set(reader.fieldnames):
                raise InputError("expected columns pdb_id,release_date", file=str(path))
            for line, row in enumerate(reader, start=2):
                date = (row["release_date"] or "").strip()
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                    raise InputError(f"bad date {date!r}", file=str(path), line=line)
                out[row["pdb_id"].strip().upper()] = date
    except OSError as exc:
        raise InputError(f"cannot read dates: {exc.strerror}", file=str(path)) from None
    return out


def _open_text(path: Path):  # noqa: ANN202 - text stream
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def header_release_date(path: Path) -> str:
    """Initial release date from the header (PDB ``REVDAT 1``; mmCIF first revision), or ``""``."""
    is_cif = path.name.lower().removesuffix(".gz").endswith((".cif", ".mmcif"))
    with _open_text(path) as fh:
        if not is_cif:
            for line in fh:
                if line.startswith(("ATOM", "HETATM", "MODEL")):
                    break
                m = _REVDAT.match(line)
                if m and m.group(2) in _MONTHS:
                    yy = int(m.group(3))
                    year = 1900 + yy if yy >= 70 else 2000 + yy
                    return f"{year:04d}-{_MONTHS[m.group(2)]:02d}-{m.group(1)}"
            return ""
        text = fh.read()
    # the revision history may come before or after _atom_site (1ehz.cif, 1gid.cif: after)
    at = text.find("\n_pdbx_audit_revision_history.revision_date")
    if at < 0:
        return ""
    dates: list[str] = []
    in_loop = False
    for line in text[at + 1 : at + 1 + 65536].splitlines():  # the history is a few lines
        if line.startswith("_pdbx_audit_revision_history.revision_date"):
            parts = line.split()
            if len(parts) > 1:  # key-value form: one revision
                return parts[1]
            in_loop = True
            continue
        if in_loop:
            if line.startswith(("_", "#", "loop_", "data_")):
                if dates or not line.startswith("_pdbx_audit_revision_history."):
                    break
                continue
            dates += re.findall(r"\b(\d{4}-\d{2}-\d{2})\b", line)
    return min(dates) if dates else ""


def file_entry(st: gemmi.Structure, path: Path) -> str:
    """The PDB entry a structure file holds: its own id (mmCIF ``_entry.id`` or data block
    name, PDB ``HEADER`` id code) when that is a PDB id, else the file name's
    (:func:`entry_from_name`). So ``dupe_1EHZ.cif`` holding 1EHZ is entry ``1EHZ``."""
    for name in (dict(st.info).get("_entry.id"), st.name):
        found = entry_id(name)
        if found:
            return found
    return entry_id(path.name.split(".")[0]) or entry_from_name(path)


def parse_file(path: Path) -> list[tuple[str, str, np.ndarray]]:
    """RNA chains of a file's first model: (chain name, sequence, [L, 3] C1′ Å with NaN rows).

    Raises:
        StructureError: unreadable or unparsable file.
    """
    from rnapredict.io.pdbio import read_gemmi

    return structure_chains(read_gemmi(path))


def structure_chains(st: gemmi.Structure) -> list[tuple[str, str, np.ndarray]]:
    """RNA chains of a parsed structure's first model (see :func:`parse_file`)."""
    from rnapredict.io.pdbio import _parent_base, v3_atom_name

    st.remove_alternative_conformations()
    chains = []
    for ch in st[0]:
        seq: list[str] = []
        xyz: list[tuple[float, float, float]] = []
        for res in ch:
            base = _parent_base(res)
            if base is None:
                continue
            seq.append(base)
            pos = next((a.pos for a in res if v3_atom_name(a.name) == "C1'"), None)
            xyz.append((pos.x, pos.y, pos.z) if pos is not None else (np.nan,) * 3)
        c1 = np.asarray(xyz, dtype=np.float32).reshape(-1, 3)
        if len(seq) >= MIN_CHAIN_LEN and np.isfinite(c1).all(axis=1).sum() >= MIN_CHAIN_LEN:
            chains.append((ch.name, "".join(seq), c1))
    return chains


def _without_path(message: str, path: Path) -> str:
    """``message`` on one line, the file name taken out (the caller names the file): gemmi's
    ``PATH:LINE:COL(..): what`` becomes ``line LINE: what``."""
    text = " ".join(message.split())
    text = re.sub(re.escape(str(path)) + r":(\d+):\d+(?:\(\d+\))?:?", r"line \1:", text)
    return text.replace(f"{path}: ", "").replace(str(path), "the file")


def _work(path: Path) -> tuple[Path, list[tuple[str, str, np.ndarray]] | str, str, str]:
    """Worker: (path, chains or an error message, header date, entry); never raises.

    The message does not repeat the path (the caller names the file)."""
    from rnapredict.io.pdbio import read_gemmi

    try:
        st = read_gemmi(path)
        entry = file_entry(st, path)
        chains = structure_chains(st)
        date = header_release_date(path)
    except StructureError as exc:
        return path, _without_path(exc.message, path), "", ""
    except OSError as exc:
        return path, f"cannot read: {exc.strerror or exc}", "", ""
    except (ValueError, EOFError, RuntimeError) as exc:
        return path, " ".join(str(exc).split()), "", ""
    return path, chains, date, entry


def build_library(
    inputs: Iterable[str | os.PathLike[str]],
    dates: dict[str, str] | None = None,
    jobs: int = 1,
    on_skip: Callable[[str, str], None] | None = None,
) -> tuple[TemplateLibrary, BuildReport]:
    """Index every RNA chain of the structure files in ``inputs`` (files or directories).

    Args:
        dates: {PDB id: ``YYYY-MM-DD``} overriding the files' headers (``--dates CSV``).
        jobs: worker processes (files are parsed in parallel, results kept in input order).
        on_skip: called with (file, reason) for each file that cannot be read.

    Returns:
        The library (chains in file order; a repeated ``ENTRY_CHAIN`` id keeps the first) and
        the build report.
    """
    inputs = list(inputs)
    for item in inputs:  # up front: a typo must not surface from a worker pool's feeder
        if not Path(item).exists():
            raise InputError("no such file or directory", file=str(item))
    report = BuildReport()
    chains: list[TemplateChain] = []
    seen: set[str] = set()
    files = iter_structure_files(inputs)
    if jobs > 1:
        ctx = multiprocessing.get_context("spawn")
        pool = ctx.Pool(jobs)
        results: Iterable = pool.imap(_work, files, chunksize=4)
    else:
        pool = None
        results = map(_work, files)
    try:
        for path, parsed, header_date, entry in results:
            if isinstance(parsed, str):
                report.skipped.append((str(path), parsed))
                if on_skip is not None:
                    on_skip(str(path), parsed)
                continue
            report.files += 1
            date = (dates or {}).get(entry, header_date)
            for name, seq, c1 in parsed:
                tc = TemplateChain(entry, name, seq, date, c1)
                if tc.id.upper() in seen:
                    report.duplicates += 1
                    continue
                seen.add(tc.id.upper())
                chains.append(tc)
    finally:
        if pool is not None:
            pool.terminate()
    report.chains = len(chains)
    return TemplateLibrary.from_chains(chains), report
