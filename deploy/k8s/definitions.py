"""The code location on Kubernetes: the same Definitions, each step of a run in its own pod (k8s_job_executor).

Loaded by the user-code deployment of deploy/k8s/values.yaml (`dagster api grpc --python-file` this file).
The run pod (K8sRunLauncher) starts one Kubernetes Job per step; step pods inherit the run launcher's and the
code location's env secrets and volumes. Per-run tuning (concurrency, step resources): deploy/k8s/run_config.yaml.
"""

import dagster as dg
from dagster_k8s import k8s_job_executor

from after_sales.definitions import defs as one_machine

# Everything as on one machine except the executor (Definitions.merge refuses two executors).
defs = dg.Definitions(
    assets=one_machine.assets,
    asset_checks=one_machine.asset_checks,
    jobs=one_machine.jobs,
    schedules=one_machine.schedules,
    sensors=one_machine.sensors,
    resources=one_machine.resources,
    loggers=one_machine.loggers,
    metadata=one_machine.metadata,
    executor=k8s_job_executor,
)
