"""The CDK app: the stack of one deployment, checked by cdk-nag's AWS Solutions and HIPAA
Security packs as a validation of the synthesis.

cdk-nag 3 is a validation plugin (`Validations.of(app).add_plugins(...)`): a finding that is
not acknowledged makes `synth()` fail with the report (cdk.out/validation-report.json).
A finding is acknowledged only on the construct it is about, beside the code that makes it,
with the reason it cannot be fixed there; docs/aws.md lists them all. The acknowledgments are
also written into the template's Metadata (cdk_nag), so that a reviewer of the template sees
them too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from practicelake_aws.config import CONTEXT_KEYS, Deployment, deployment_from
from practicelake_aws.stack import PracticelakeStack

# Node 20 is past its end of life; jsii says so on every start, on stderr, unless told it is known.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


FEATURE_FLAGS = {
    # Server access logs delivered under a bucket policy, not the legacy log-delivery ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(context: Mapping[str, Any], outdir: str | None = None) -> tuple[App, PracticelakeStack]:
    """The app of the deployment `context` describes, nag packs added; not yet synthesised."""
    app = App(context=FEATURE_FLAGS | dict(context), outdir=outdir)
    # What the app sees wins: the CLI's context (CDK_CONTEXT_JSON) over the one given here.
    deployment = deployment_from({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        HIPAASecurityChecks(app, write_suppressions_to_cloud_formation=True),
    )
    stack = PracticelakeStack(
        app,
        stack_name(deployment),
        deployment,
        env=Environment(account=deployment.account, region=deployment.region),
        description=f"practicelake {deployment.name}: zones, catalog, pipeline, dashboard (infra/aws)",
        termination_protection=True,
    )
    return app, stack


def stack_name(deployment: Deployment) -> str:
    return "".join(part.capitalize() for part in deployment.name.split("-"))
