"""Every byte a folder holds, in every form a reader could get it back in: as stored, and
decompressed or decoded where it is compressed (gzip metadata, Avro blocks, Parquet pages),
so that a search of them cannot miss a value because it was compressed."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

AVRO_MAGIC = b"Obj\x01"
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
HEX_RUN = re.compile(rb"[0-9a-f]{15,}")
DECIMAL = re.compile(rb"-?\d+\.\d+")
WINDOW = 15  # a string bound in a manifest is cut to 16 characters, the upper one with its last raised


@dataclass
class Readable:
    """One file: `decoded` holds what a reader gets back (text, decompressed blocks, values);
    `opaque` the compressed bytes as stored, searched only for terms long enough that noise
    cannot spell them by chance."""

    path: Path
    decoded: list[bytes] = field(default_factory=list)
    opaque: list[bytes] = field(default_factory=list)

    @property
    def every_form(self) -> list[bytes]:
        return self.decoded + self.opaque


def read_all(roots: Iterable[Path]) -> list[Readable]:
    return [readable(path) for root in roots for path in sorted(root.rglob("*")) if path.is_file()]


def readable(path: Path) -> Readable:
    data = path.read_bytes()
    found = Readable(path)
    if data.startswith(PARQUET_MAGIC):
        found.opaque.append(data)
        found.decoded.append(_parquet_values(path))
        footer = int.from_bytes(data[-8:-4], "little")
        found.decoded.append(data[-8 - footer : -8])  # the footer: schema, statistics, key-value metadata
    elif data.startswith(AVRO_MAGIC):
        header, blocks, compressed = _avro(data)
        found.decoded += [header, *blocks]
        if compressed:
            found.opaque.append(data)
    elif data.startswith(GZIP_MAGIC):
        found.opaque.append(data)
        found.decoded.append(gzip.decompress(data))
    else:
        found.decoded.append(data)
    return found


def _parquet_values(path: Path) -> bytes:
    table = pq.read_table(path)
    lines = [f"{name}={value}" for name in table.column_names for value in table[name].to_pylist()]
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _long(data: bytes, position: int) -> tuple[int, int]:
    """An Avro long (zig-zag varint) and the position after it."""
    shift = result = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), position


def _avro(data: bytes) -> tuple[bytes, list[bytes], bool]:
    """An Avro object container file: its header, its blocks decompressed, and whether they were."""
    position = len(AVRO_MAGIC)
    metadata: dict[bytes, bytes] = {}
    while True:
        count, position = _long(data, position)
        if count == 0:
            break
        if count < 0:
            _, position = _long(data, position)
            count = -count
        for _ in range(count):
            size, position = _long(data, position)
            key, position = data[position : position + size], position + size
            size, position = _long(data, position)
            metadata[key], position = data[position : position + size], position + size
    header, sync = data[:position], data[position : position + 16]
    position += 16
    codec = metadata.get(b"avro.codec", b"null")
    if codec not in (b"null", b"deflate"):
        raise AssertionError(f"the search cannot read Avro blocks compressed with {codec!r}")
    blocks = []
    while position < len(data):
        _, position = _long(data, position)
        size, position = _long(data, position)
        block, position = data[position : position + size], position + size
        if data[position : position + 16] != sync:
            raise AssertionError("an Avro block does not end with the file's sync marker")
        position += 16
        blocks.append(zlib.decompress(block, -15) if codec == b"deflate" else block)
    return header, blocks, codec != b"null"


def hex_windows(forms: Iterable[bytes]) -> Iterator[bytes]:
    """Every run of WINDOW lower-case hex digits the forms hold."""
    for form in forms:
        for run in HEX_RUN.findall(form):
            for start in range(len(run) - WINDOW + 1):
                yield run[start : start + WINDOW]


def decimals(forms: Iterable[bytes]) -> set[bytes]:
    return {number for form in forms for number in DECIMAL.findall(form)}
