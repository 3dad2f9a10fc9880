"""`service-accounts.yaml`: each generated role's ServiceAccount, annotated with the role ARN for IRSA
(ASCP reads `eks.amazonaws.com/role-arn`). A service account reached only through Pod Identity needs
no annotation: the association names it."""

from __future__ import annotations

import yaml

from iamscope.generate.plan import GeneratePlan, RolePlan
from iamscope.model import IRSA_ANNOTATION

HEADER = (
    "# Written by `iamscope generate`: the ServiceAccounts whose roles it generated. Apply with\n"
    "#   kubectl apply --server-side --field-manager=iamscope -f service-accounts.yaml\n"
    "# so that only the fields below are set, and the labels, annotations, imagePullSecrets and\n"
    "# automountServiceAccountToken others manage stay as they are.\n"
)


def _document(role: RolePlan) -> str:
    metadata: dict[str, object] = {"name": role.service_account, "namespace": role.namespace}
    if role.irsa:
        metadata["annotations"] = {IRSA_ANNOTATION: role.role_arn}
    body = yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata},
        sort_keys=True,
        default_flow_style=False,
        width=1000,
    )
    workloads = ", ".join(role.workloads)
    comment = f"# {role.role_arn}, for {workloads}\n"
    if not role.irsa:
        comment += "# EKS Pod Identity: the association names this service account, no annotation is needed\n"
    return comment + body


def service_accounts_yaml(plan: GeneratePlan) -> str:
    return HEADER + "".join(f"---\n{_document(role)}" for role in plan.roles)
