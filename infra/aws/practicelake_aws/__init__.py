"""practicelake's AWS deployment as a CDK app: one stack (stack.py) of constructs, one module
each: storage, catalog (Glue, Athena), logs, network, state (EFS), roles, tasks, web,
schedule, trail. What each component may read and write is data, in access.py."""
