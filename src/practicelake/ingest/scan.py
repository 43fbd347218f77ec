"""Which files an ingest takes: the files named, and the exports under the folders named (a
file whose extension an export format uses: EXPORT_EXTENSIONS).

A folder scan names everything it leaves out, with the reason. It never opens what it skips
(a FIFO would block), never follows a symbolic link out of the folder named, and never
descends into a linked folder. Extensions are matched in any letter case: exporters on Windows
write `.CSV`, and a CSV's dataset is named by the file's stem in lower case either way. A file
named on the command line is taken whatever its name (`remit.txt`): its content decides.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from practicelake.errors import PracticelakeError

EXPORT_EXTENSIONS = frozenset({".csv", ".835", ".837", ".x12", ".edi", ".json", ".ndjson", ".jsonl", ".hl7"})
CLAIMED_EXTENSIONS = frozenset({".txt", ".dat"})
"""Extensions clearinghouses and interfaces give X12 and HL7 files too: a folder's file with one
is taken only if a format claims its content (ingest.receive), so that a README stays out."""
KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str
    unread: bool = False  # an export that could not be read, not a file that is no export


def shown(value: str | Path) -> str:
    """A file or folder name as a message shows it: escaped if it holds control characters."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def export_files(paths: Iterable[Path]) -> tuple[list[Path], list[Skipped]]:
    """The files to ingest, in a stable order, and what was left out. A path named that does
    not exist is refused before anything is read."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not os.path.lexists(path):
            raise PracticelakeError(f"{shown(path)}: no such file or folder")
        mode = _mode(path, skipped)
        if mode is None:
            continue
        if stat.S_ISDIR(mode):
            _scan(path.resolve(), path, files, skipped)
        elif stat.S_ISREG(mode):
            files.append(path)
        else:
            skipped.append(Skipped(path, f"not a regular file ({_kind(mode)})"))
    return files, skipped


def read_export(path: Path) -> bytes:
    """The file's bytes; OSError if it cannot be read or is no longer a regular file (opened
    without blocking, so that a file replaced by a FIFO since the scan cannot hang the ingest)."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "no longer a regular file")
        return handle.read()


def _mode(path: Path, skipped: list[Skipped]) -> int | None:
    """The mode of what `path` leads to, or None (recorded in `skipped`) if it leads nowhere."""
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        skipped.append(Skipped(path, "dangling symbolic link (its target does not exist)"))
    except OSError as exc:
        skipped.append(Skipped(path, f"cannot be read: {exc.strerror or type(exc).__name__}", unread=True))
    return None


def _scan(root: Path, folder: Path, files: list[Path], skipped: list[Skipped]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        skipped.append(Skipped(folder, f"folder cannot be read: {exc.strerror or type(exc).__name__}", unread=True))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            skipped.append(Skipped(path, "hidden (its name starts with '.')"))
            continue
        linked = entry.is_symlink()
        if linked and not path.exists():
            skipped.append(Skipped(path, "dangling symbolic link (its target does not exist)"))
            continue
        if linked and not _inside(root, path):
            skipped.append(Skipped(path, "symbolic link to outside the folder: not followed"))
            continue
        mode = _mode(path, skipped)
        if mode is None:
            continue
        if stat.S_ISDIR(mode):
            if linked:
                skipped.append(Skipped(path, "symbolic link to a folder: not followed"))
            else:
                _scan(root, path, files, skipped)
        elif not stat.S_ISREG(mode):
            skipped.append(Skipped(path, f"not a regular file ({_kind(mode)})"))
        elif export_suffix(path) not in EXPORT_EXTENSIONS | CLAIMED_EXTENSIONS:
            shown_extensions = ", ".join(sorted(EXPORT_EXTENSIONS | CLAIMED_EXTENSIONS))
            skipped.append(
                Skipped(path, f"not an export (its name does not end in one of {shown_extensions}, or those .gz)")
            )
        else:
            files.append(path)


def export_suffix(path: Path) -> str:
    """The extension that says what the file is: `.ndjson` for `bulk.ndjson.gz` (gzip-compressed)."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def _inside(root: Path, link: Path) -> bool:
    """Whether the link leads into `root`."""
    try:
        return link.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop of links
        return False


def _kind(mode: int) -> str:
    return KINDS.get(stat.S_IFMT(mode), "not a file")
