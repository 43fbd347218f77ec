"""One export's arrival, ingested: what the arrival state machine runs in the ingest task
(practicelake_aws/schedule.py), as

    python /opt/practicelake/arrival.py <key> --version-id <version>

with the key and version of the object S3 reported created in the landing bucket.

The landing bucket's layout is `<practice_id>/<batch>/<file>` (practicelake_aws/access.py).
The practice and the batch are read from the key's path and from nothing else (not the
object's metadata, not its content, not its uploader), each checked before anything is
fetched: a key of any other shape is refused with a message that names it (exit 2). The
object's exact version is then fetched into the task's temporary storage, as
`<batch>/<file>`, and handed to

    practicelake ingest <file> --practice <practice_id> --batch <batch>

whose exit status is the task's (so the state machine sees a failed ingest fail). A folder
marker (a key ending in '/', as the S3 console creates) holds no export: exit 0.

The key is taken as EventBridge gives it (S3's EventBridge events carry the key itself, not
URL-encoded as S3's older notifications do).

--landing-dir reads the object from a local folder laid out like the bucket instead of the
bucket named by $LANDING_BUCKET: to replay an arrival by hand, and for the tests.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from practicelake.settings import practice_id_problem

LAYOUT = "<practice_id>/<batch>/<file>"
BATCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
BATCH_RULE = "1 to 128 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"
FILE_NAME = re.compile(r"[^\x00-\x1f\x7f/\\.][^\x00-\x1f\x7f/\\]{0,254}")
FILE_RULE = "up to 255 characters, no control character or slash, not starting with '.'"
REFUSED, SKIPPED = 2, 0


class LayoutError(ValueError):
    """An object key that does not fit the landing bucket's layout; the message names it."""


@dataclass(frozen=True)
class Arrival:
    practice_id: str
    batch: str
    file_name: str
    key: str


def arrival(key: str) -> Arrival | None:
    """The practice, batch and file name of `key`; None for a folder marker; LayoutError if the
    key does not fit LAYOUT."""
    if key.endswith("/"):
        return None
    parts = key.split("/")
    if len(parts) != 3:
        raise LayoutError(f"object key {key[:200]!r} does not fit {LAYOUT}: it has {len(parts)} parts, not 3")
    practice_id, batch, file_name = parts
    problem = practice_id_problem(practice_id)
    if problem is not None:
        raise LayoutError(f"object key {key[:200]!r}: its {problem}")
    if not BATCH.fullmatch(batch):
        raise LayoutError(f"object key {key[:200]!r}: batch {batch[:80]!r} is not valid: a batch is {BATCH_RULE}")
    if not FILE_NAME.fullmatch(file_name):
        raise LayoutError(f"object key {key[:200]!r}: file name {file_name[:80]!r} is not valid: it is {FILE_RULE}")
    return Arrival(practice_id, batch, file_name, key)


def fetch_from_bucket(bucket: str, found: Arrival, version_id: str, destination: Path) -> None:
    """Exactly that version of the object: a later upload under the same key is its own arrival."""
    import boto3  # only in the task: a replay from a folder needs no AWS at all

    client = boto3.client("s3", region_name=os.environ.get("PRACTICELAKE_S3_REGION") or None)
    client.download_file(bucket, found.key, str(destination), ExtraArgs={"VersionId": version_id})


def fetch_from_folder(folder: Path, found: Arrival, destination: Path) -> None:
    shutil.copyfile(folder / found.practice_id / found.batch / found.file_name, destination)


def ingest_command(found: Arrival, path: Path) -> list[str]:
    return [
        sys.executable, "-m", "practicelake", "ingest", str(path),
        "--practice", found.practice_id, "--batch", found.batch,
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", help=f"the object's key in the landing bucket: {LAYOUT}")
    parser.add_argument("--version-id", required=True, help="the object's version (the landing bucket is versioned)")
    parser.add_argument("--landing-dir", type=Path, help="a local folder laid out like the bucket, instead of it")
    arguments = parser.parse_args(argv)
    try:
        found = arrival(arguments.key)
    except LayoutError as exc:
        print(f"arrival: refused: {exc}", file=sys.stderr)
        return REFUSED
    if found is None:
        print(f"arrival: {arguments.key[:200]!r} is a folder, not an export: nothing to ingest", file=sys.stderr)
        return SKIPPED
    bucket = os.environ.get("LANDING_BUCKET", "")
    if arguments.landing_dir is None and not bucket:
        print("arrival: refused: LANDING_BUCKET is not set (and no --landing-dir)", file=sys.stderr)
        return REFUSED
    with tempfile.TemporaryDirectory(prefix="arrival-") as scratch:
        destination = Path(scratch) / found.batch / found.file_name
        destination.parent.mkdir()
        if arguments.landing_dir is not None:
            fetch_from_folder(arguments.landing_dir, found, destination)
        else:
            fetch_from_bucket(bucket, found, arguments.version_id, destination)
        # An argument list, no shell; its parts are the checked practice id, batch and file name.
        return subprocess.run(ingest_command(found, destination), check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
