"""Lakehouses on Glue and S3 with a bucket per zone, on a moto server on 127.0.0.1 that
records every request it answers: which bucket an S3 request touched, which Glue table a
Glue request named, and whether it changed anything; so a test can say what a command
read and wrote, zone by zone."""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from lakes import TEST_KEY, make_bucket, s3_settings
from practicelake.settings import Settings

ZONES = ("raw", "cleaned", "curated", "ops")
# moto's Glue keeps one catalog per account and region, and every lake's databases are named
# cleaned, curated and ops: each lake of a test session gets a region of its own.
REGIONS = itertools.cycle(
    [
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "sa-east-1",
    ]
)
GLUE_CHANGES = {"CreateDatabase", "UpdateDatabase", "CreateTable", "UpdateTable", "DeleteTable", "DeleteTableVersion"}


@dataclass(frozen=True)
class Request:
    """One request the server answered: an S3 bucket, or a Glue action and the table it names."""

    service: str  # "s3" or "glue"
    action: str  # the HTTP method (S3) or the Glue action
    bucket: str = ""
    key: str = ""
    table: str = ""  # "database.table", or "database" for a database action

    @property
    def changes(self) -> bool:
        if self.service == "glue":
            return self.action in GLUE_CHANGES
        return self.action in ("PUT", "POST", "DELETE")


class Recorder:
    """A WSGI layer before moto's app that notes each request."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: list[Request] = []
        self._mutex = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith("AWSGlue."):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            request = _glue(target.removeprefix("AWSGlue."), json.loads(body or b"{}"))
        else:
            bucket, _, key = unquote(str(environ.get("PATH_INFO", ""))).lstrip("/").partition("/")
            request = Request("s3", str(environ["REQUEST_METHOD"]), bucket=bucket, key=key)
        with self._mutex:
            self.requests.append(request)
        return self.app(environ, start_response)

    @contextmanager
    def watching(self) -> Iterator[list[Request]]:
        """The requests answered while the block runs (those still arriving are kept too)."""
        seen: list[Request] = []
        start = len(self.requests)
        try:
            yield seen
        finally:
            with self._mutex:
                seen.extend(self.requests[start:])


def _glue(action: str, body: dict[str, Any]) -> Request:
    database = str(body.get("DatabaseName") or body.get("Name") or body.get("DatabaseInput", {}).get("Name", ""))
    table = body.get("TableName") or body.get("TableInput", {}).get("Name")
    if table is None and action in ("GetTable", "DeleteTable"):
        table = body.get("Name")
        database = str(body.get("DatabaseName", ""))
    return Request("glue", action, table=f"{database}.{table}" if table else database)


class RecordingMotoServer(ThreadedMotoServer):
    """moto's threaded server with a Recorder before its app."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.recorder = Recorder(DomainDispatcherApplication(create_backend_app))

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address, self._port, self.recorder, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


def zoned_settings(root: Path, endpoint: str, **overrides: Any) -> Settings:
    """A lakehouse on the Glue catalog with a bucket for the warehouse and one per zone."""
    buckets = {zone: make_bucket(endpoint) for zone in ("warehouse", *ZONES)}
    values: dict[str, Any] = {
        "warehouse_uri": f"s3://{buckets['warehouse']}/lake",
        "catalog_uri": "glue://",
        "glue_endpoint_url": endpoint,
        "s3_region": next(REGIONS),
        **{f"{zone}_uri": f"s3://{buckets[zone]}/{zone}" for zone in ZONES},
    }
    return s3_settings(root, endpoint, **(values | overrides))


def bucket_of(uri: str) -> str:
    return uri.removeprefix("s3://").partition("/")[0]


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=TEST_KEY, aws_secret_access_key=TEST_KEY
    )


def glue_client(settings: Settings) -> Any:
    return boto3.client(
        "glue",
        endpoint_url=settings.glue_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=TEST_KEY,
        aws_secret_access_key=TEST_KEY,
    )


def objects(endpoint: str, buckets: Iterable[str]) -> dict[str, list[str]]:
    """Every object key of each bucket."""
    client = s3_client(endpoint)
    found: dict[str, list[str]] = {}
    for bucket in buckets:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        found[bucket] = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return found
