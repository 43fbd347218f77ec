"""The models' inputs as Spark DataFrames, under names Spark can hold: the cleaned rows of a
group's practices, read by Spark from the same Iceberg tables the DuckDB engine reads, and the
reference tables, which are small and made by practicelake (files, settings).

A cleaned table is read from its `metadata_location`, the metadata file the catalog points at
when the group starts: that is one snapshot, the same one pyiceberg would scan, so Spark needs
no catalog of its own and sees exactly the commits the SQLite (or Glue) catalog holds. The
practice filter and the column selection are pushed down to Iceberg (partition pruning by
practice_id; the lineage columns are never read).

Spark 3.5 has no TIME type, and its Iceberg reader refuses a table holding one
(provider_schedule's session start and end). Such a table is scanned by pyiceberg, as the
DuckDB engine does, and each time of day becomes a timestamp on 1970-01-01: differences and
comparisons between times (all the models do with them) are unchanged. It is one row per
session, small beside the appointments; Spark 4.1's TIME type would let Spark read it too.

Spark keeps temporary views in one namespace, so `cleaned.appointment` is exposed as the view
`cleaned__appointment` and the models' table names are rewritten to match (curate.dialects).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import In, Reference
from pyiceberg.table import Table
from pyiceberg.types import TimeType
from sqlglot import exp

from practicelake.curate.project import Model, ModelError
from practicelake.curate.spark_session import SparkUnavailable
from practicelake.lakehouse.schemas import LINEAGE

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

SEPARATOR = "__"


def view_name(zone: str, name: str) -> str:
    return zone + SEPARATOR + name


def view_table(zone: str, name: str) -> exp.Table:
    """How a model's `zone.name` is named in Spark SQL (for curate.dialects.transpile)."""
    return exp.table_(view_name(zone, name), quoted=True)


def spark_type(arrow: pa.DataType) -> DataType:
    from pyspark.sql import types as t

    simple: dict[pa.DataType, DataType] = {
        pa.string(): t.StringType(),
        pa.large_string(): t.StringType(),
        pa.int32(): t.IntegerType(),
        pa.int64(): t.LongType(),
        pa.float64(): t.DoubleType(),
        pa.bool_(): t.BooleanType(),
        pa.date32(): t.DateType(),
    }
    if arrow in simple:
        return simple[arrow]
    if pa.types.is_timestamp(arrow) and arrow.tz is None:
        return t.TimestampNTZType()
    if pa.types.is_decimal(arrow):
        return t.DecimalType(arrow.precision, arrow.scale)
    raise ModelError(f"the spark engine has no type for {arrow}")


def spark_schema(schema: pa.Schema) -> StructType:
    from pyspark.sql import types as t

    return t.StructType([t.StructField(f.name, spark_type(f.type), f.nullable) for f in schema])


def from_arrow(spark: SparkSession, rows: pa.Table) -> DataFrame:
    """A DataFrame of `rows` in the same types (through pandas, the one way pyspark 3.5 takes
    rows from the driver in bulk; Arrow carries them across)."""
    return spark.createDataFrame(rows.to_pandas(), schema=spark_schema(rows.schema))


def _times_as_timestamps(rows: pa.Table) -> pa.Table:
    for index, field in enumerate(rows.schema):
        if pa.types.is_time(field.type):
            micros = pc.cast(rows[field.name], pa.time64("us")).cast(pa.int64())
            as_timestamp = pa.field(field.name, pa.timestamp("us"), field.nullable)
            rows = rows.set_column(index, as_timestamp, micros.cast(pa.timestamp("us")))
    return rows


def _has_time(table: Table) -> bool:
    return any(isinstance(field.field_type, TimeType) for field in table.schema().fields)


def _readable(spark: SparkSession, location: str) -> None:
    """Spark has a filesystem for the warehouse's scheme (s3:// is EMRFS's on EMR and Glue)."""
    scheme = location.partition("://")[0] if "://" in location else "file"
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    try:
        jvm.org.apache.hadoop.fs.FileSystem.getFileSystemClass(scheme, spark.sparkContext._jsc.hadoopConfiguration())
    except Exception:  # py4j's error for Hadoop's "No FileSystem for scheme"
        raise SparkUnavailable(
            f"this Spark cannot read {scheme}:// paths: run on EMR or Glue (EMRFS), or add hadoop-aws "
            f"and set spark.hadoop.fs.{scheme}.impl=org.apache.hadoop.fs.s3a.S3AFileSystem"
        ) from None


def data_columns(table: Table) -> list[str]:
    """A cleaned table's columns without the lineage ones, which no model reads."""
    lineage = {f.name for f in LINEAGE}
    return [field.name for field in table.schema().fields if field.name not in lineage]


def cleaned_frame(spark: SparkSession, catalog: Catalog, entity: str, practices: list[str]) -> DataFrame:
    """The practices' rows of a cleaned table, at the snapshot the catalog points at now."""
    from pyspark.sql import functions as f

    table = catalog.load_table("cleaned." + entity)
    columns = data_columns(table)
    if _has_time(table):
        chosen = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
        rows = table.scan(row_filter=chosen, selected_fields=tuple(columns)).to_arrow()
        return from_arrow(spark, _times_as_timestamps(rows))
    _readable(spark, table.metadata_location)
    frame = spark.read.format("iceberg").load(table.metadata_location)
    return frame.where(f.col("practice_id").isin(practices)).select(*columns)


def inputs(
    spark: SparkSession,
    catalog: Catalog,
    models: tuple[Model, ...],
    practices: list[str],
    references: Mapping[str, pa.Table],
) -> dict[str, DataFrame]:
    """Every input of the models, by view name."""
    entities = sorted({t.removeprefix("cleaned.") for m in models for t in m.reads if t.startswith("cleaned.")})
    frames = {view_name("cleaned", entity): cleaned_frame(spark, catalog, entity, practices) for entity in entities}
    return frames | {view_name("reference", name): from_arrow(spark, rows) for name, rows in references.items()}
