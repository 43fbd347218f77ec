"""Exports that come gzip-compressed (a FHIR bulk export's `.ndjson.gz`, a clearinghouse's
`.835.gz`): the raw zone keeps the file as received, compressed; every format reads what it
holds. A gzip stream is told by its first two bytes (RFC 1952), which no text export starts with.

A file that would expand past EXPANDED_LIMIT is refused rather than read into memory: a small
file that expands without end is an attack, not an export."""

from __future__ import annotations

import gzip
import io
import zlib

from practicelake.errors import MalformedFileError

GZIP_MAGIC = b"\x1f\x8b"
EXPANDED_LIMIT = 2 * 1024**3
SUFFIX = ".gz"


def is_compressed(data: bytes) -> bool:
    return data.startswith(GZIP_MAGIC)


def expanded(data: bytes) -> bytes:
    """The bytes a gzip file holds (every member, as `gzip` reads them); the data itself if it is
    not compressed. MalformedFileError if it is cut short, damaged, or expands past the limit."""
    if not is_compressed(data):
        return data
    out: list[bytes] = []
    size = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > EXPANDED_LIMIT:
                    raise MalformedFileError(f"gzip: expands past {EXPANDED_LIMIT // 1024**3} GiB: not read")
                out.append(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise MalformedFileError(f"gzip: cannot be decompressed ({type(exc).__name__})") from None
    return b"".join(out)


def inner_name(name: str) -> str:
    """`appointments.csv.gz` -> `appointments.csv`: the name the compressed file had."""
    return name[: -len(SUFFIX)] if name.lower().endswith(SUFFIX) else name
