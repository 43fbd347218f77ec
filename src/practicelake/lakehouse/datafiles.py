"""Arrow rows -> Parquet data files of a table partitioned by practice_id.

pyiceberg's own path filters the table once per partition and then combines the result:
two copies of every row. Rows arrive here grouped by practice, so each practice's rows are
a slice of the table and are written as they are; only a practice that loses rows to a
newer record of the same chunk is filtered (one copy of that practice's rows).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import bin_pack_arrow_table, pyarrow_to_schema, write_file
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
from pyiceberg.table import TableProperties, WriteTask
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.utils.properties import property_as_int


def practice_runs(practice_ids: pa.ChunkedArray) -> Iterator[tuple[str, int, int]]:
    """(practice_id, start, stop) of each run of equal values, in order. A practice that
    occurs in two runs is named twice: its rows then go to two files, which is still right."""
    if len(practice_ids) == 0:
        return
    if practice_ids.null_count:
        raise ValueError("a row without practice_id cannot be written to a practice's partition")
    encoded = pc.run_end_encode(practice_ids.combine_chunks())
    start = 0
    for practice_id, end in zip(encoded.values.to_pylist(), encoded.run_ends.to_pylist(), strict=True):
        yield practice_id, start, end
        start = end


def write_data_files(metadata: TableMetadata, io: FileIO, rows: pa.Table, keep: np.ndarray | None) -> list[DataFile]:
    """Write `rows` (only those where `keep` is true, when given) as data files of the table
    described by `metadata`, identity-partitioned by practice_id. Practices are written in
    parallel by pyiceberg's executor; nothing is committed here."""
    spec, schema = metadata.spec(), metadata.schema()
    (field,) = spec.fields
    if schema.find_column_name(field.source_id) != "practice_id":
        raise ValueError("the table is not partitioned by practice_id")
    task_schema = pyarrow_to_schema(
        rows.schema, name_mapping=schema.name_mapping, format_version=metadata.format_version
    )
    target = property_as_int(
        metadata.properties,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT,
    )
    assert target is not None
    write_uuid, counter = uuid.uuid4(), itertools.count()

    def tasks() -> Iterator[WriteTask]:
        for practice_id, start, stop in practice_runs(rows["practice_id"]):
            part = rows.slice(start, stop - start)
            if keep is not None and not keep[start:stop].all():
                part = part.filter(pa.array(keep[start:stop]))
            if part.num_rows == 0:
                continue
            key = PartitionKey([PartitionFieldValue(field, practice_id)], partition_spec=spec, schema=schema)
            for batches in bin_pack_arrow_table(part, target):
                yield WriteTask(write_uuid, next(counter), task_schema, batches, partition_key=key)

    return list(write_file(io, metadata, tasks()))
