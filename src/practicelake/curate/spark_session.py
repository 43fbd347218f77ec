"""The SparkSession that `curate --engine spark` runs the models in.

A session that is already running is used as it is: under `spark-submit` on EMR, or in a Glue
job, the cluster's session carries its own Iceberg runtime, S3 access and sizing, and
practicelake does not second-guess them. Otherwise practicelake starts a local one, offline:
the Iceberg runtime jar is the one the `snowpark-connect-deps-iceberg` wheel installs in
site-packages (Maven is not reachable from every server), Spark's UI is off, and the session
time zone is UTC.

UTC is not a preference: the cleaned and curated zones hold naive UTC (or practice-local)
timestamps, and sqlglot writes DuckDB's `ts at time zone 'UTC' at time zone zone` as Spark's
`from_utc_timestamp`, which is right only when the session reads and renders timestamps in
UTC. The JVM's own zone is set to UTC too, so no date function falls back to the machine's.
ANSI mode is pinned off (Spark 3.5's default, not Spark 4's), so a division by zero is NULL as
the models expect wherever they do not guard it.

pyspark is imported here only, and only when the engine is asked for: practicelake imports and
runs without it. A missing pyspark or Java is one `SparkUnavailable` error saying what to
install.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from practicelake.errors import PracticelakeError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SCALA = "2.12"  # pyspark 3.5's wheel is built for Scala 2.12
RUNTIME_JAR = f"iceberg-spark-runtime-3.5_{SCALA}-*.jar"
INSTALL = "pip install 'practicelake[spark]' (pyspark 3.5) and a Java 17 runtime (Debian: openjdk-17-jre-headless)"
# Per session, so they hold in a cluster's session too (curate.spark sets them on its own).
SQL_SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}
SETTINGS = SQL_SETTINGS | {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    # The models' groups are small next to what Spark is sized for: few shuffle partitions,
    # and adaptive execution merges the small ones.
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
}


class SparkUnavailable(PracticelakeError):
    """The spark engine cannot start here: pyspark, its Java runtime or the Iceberg jar is missing."""


def require_spark() -> None:
    """Raise SparkUnavailable, naming what to install, unless a local session could start."""
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailable(f"the spark engine needs pyspark, which is not installed: {INSTALL}")
    if not _java():
        raise SparkUnavailable(f"the spark engine needs Java, and there is no java on PATH or JAVA_HOME: {INSTALL}")
    runtime_jar()


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and Path(home, "bin", "java").is_file()) or shutil.which("java") is not None


def runtime_jar() -> Path:
    """The Iceberg runtime for Spark 3.5, from the snowpark-connect-deps-iceberg wheel."""
    spec = importlib.util.find_spec("snowpark_connect_deps_iceberg")
    folders = [Path(p) / "jars" for p in (spec.submodule_search_locations or [])] if spec else []
    jars = sorted(j for folder in folders for j in folder.glob(RUNTIME_JAR))
    if not jars:
        raise SparkUnavailable(
            "the spark engine needs the Iceberg runtime for Spark 3.5, which snowpark-connect-deps-iceberg "
            f"installs (pip install snowpark-connect-deps-iceberg==1.0.1): {INSTALL}"
        )
    return jars[-1]


def local_session(master: str = "local[*]", driver_memory: str = "2g") -> SparkSession:
    """A local SparkSession with the Iceberg runtime, stopped when the process ends."""
    require_spark()
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("practicelake-curate")
    builder = builder.config("spark.jars", str(runtime_jar())).config("spark.driver.memory", driver_memory)
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except (PySparkException, OSError) as exc:  # the JVM did not start: no usable Java
        raise SparkUnavailable(f"Spark could not start ({type(exc).__name__}): {INSTALL}") from None
    session.sparkContext.setLogLevel("ERROR")
    atexit.register(session.stop)
    return session


def available() -> None:
    """Raise SparkUnavailable unless a session is running or a local one could start."""
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailable(f"the spark engine needs pyspark, which is not installed: {INSTALL}")
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is None:
        require_spark()


def session() -> SparkSession:
    """The running SparkSession (a cluster's), or a local one started now."""
    if importlib.util.find_spec("pyspark") is None:
        raise SparkUnavailable(f"the spark engine needs pyspark, which is not installed: {INSTALL}")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return local_session()
