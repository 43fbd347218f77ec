"""Synthesise practicelake's AWS stack: `cdk synth` (the CDK CLI runs this file, cdk.json says
so) or, with no CLI, `python app.py -c key=value ...` from this folder. Offline either way: no
lookups, no credentials, no network.

Context comes from cdk.json's defaults, then the CLI's (-c, CDK_CONTEXT_JSON), then this
script's own -c arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from practicelake_aws.assembly import build_app
from practicelake_aws.config import DeploymentError

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("-o", "--output", default=None, help="cloud assembly folder (default: cdk.out)")
    arguments = parser.parse_args(argv)
    context = dict(json.loads((HERE / "cdk.json").read_text())["context"])
    for pair in arguments.context:
        key, separator, value = pair.partition("=")
        if not separator:
            parser.error(f"-c {pair}: expected KEY=VALUE")
        context[key] = value
    try:
        app, _ = build_app(context, outdir=arguments.output)
    except DeploymentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        print(f"error: {str(exc).removeprefix('ValidationFailed: ')} (the findings are above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
