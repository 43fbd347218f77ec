"""The Glue Data Catalog's databases for the Iceberg tables, and the Athena workgroup that
reads them.

A database per practicelake namespace (cleaned, curated, ops), each with the location
practicelake gives that namespace when the zones have locations of their own:
`s3://<zone bucket>/iceberg/<namespace>` (lakehouse.zones). practicelake checks it on every
start and refuses a database elsewhere, so the two must agree. The tables themselves are
created by the pipeline on first use, each in its zone's bucket.

The workgroup enforces its own configuration (a query cannot send its results elsewhere or
unencrypted), writes results encrypted with the results bucket's key, stops any query that
would scan more than the deployment's limit, and publishes its metrics. Its results bucket
is a bucket of its own (storage.py): results hold data read from the zones.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from practicelake_aws.access import DATABASES, ICEBERG
from practicelake_aws.config import Deployment
from practicelake_aws.storage import Storage

NAMESPACE_ZONES = {"cleaned": "cleaned", "curated": "curated", "ops": "ops"}
"""The zone whose bucket holds each namespace's location (practicelake's lakehouse.zones)."""
RESULTS_PREFIX = "results/"


class Catalog(Construct):
    def __init__(self, scope: Construct, construct_id: str, deployment: Deployment, storage: Storage) -> None:
        super().__init__(scope, construct_id)
        self.databases: dict[str, glue.CfnDatabase] = {}
        for namespace in DATABASES:
            bucket = storage.buckets[NAMESPACE_ZONES[namespace]]
            self.databases[namespace] = glue.CfnDatabase(
                self,
                namespace.capitalize(),
                catalog_id=Aws.ACCOUNT_ID,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=namespace,
                    description=f"practicelake {deployment.name}: the {namespace} namespace (Iceberg)",
                    location_uri=namespace_location(bucket, namespace),
                ),
            )
        results = storage.buckets["athena"]
        self.workgroup = athena.CfnWorkGroup(
            self,
            "Workgroup",
            name=f"{deployment.name}-analysts",
            description="practicelake: Athena over the Iceberg tables, results encrypted, scans bounded",
            state="ENABLED",
            recursive_delete_option=False,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=deployment.athena_bytes_per_query,
                requester_pays_enabled=False,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=results.s3_url_for_object(RESULTS_PREFIX),
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=storage.keys["athena"].key_arn
                    ),
                ),
            ),
        )

    def database_arn(self, namespace: str) -> str:
        return Stack.of(self).format_arn(service="glue", resource="database", resource_name=namespace)

    def table_arn(self, identifier: str) -> str:
        """`ops.raw_files`, or `cleaned.*` for every table of a database."""
        namespace, _, table = identifier.partition(".")
        return Stack.of(self).format_arn(service="glue", resource="table", resource_name=f"{namespace}/{table}")

    @property
    def catalog_arn(self) -> str:
        return Stack.of(self).format_arn(service="glue", resource="catalog")


def namespace_location(bucket: s3.IBucket, namespace: str) -> str:
    return f"s3://{bucket.bucket_name}/{ICEBERG}/{namespace}"
