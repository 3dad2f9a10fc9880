"""How long `iamscope scan` takes on a large AWS snapshot: 5,000 roles and 100,000 secrets by default,
with a cluster of service accounts that use a share of the roles.

    .venv/bin/python bench/scan_snapshot.py [--roles 5000] [--secrets 100000] [--service-accounts 2000]

Prints the time of each phase, and as the baseline measured in the same run, the time merely to
parse the JSON files (json.load), so the figures read as ratios on any machine. Roles mix exact ARNs,
`-??????` suffixes, prefix wildcards, Deny statements, conditions and a few `*` grants; the
full-scale generator of the scale issue will replace this one."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iamscope.config import Config
from iamscope.findings import run_checks
from iamscope.state import load_inventory, sources

ACCOUNT = "111122223333"
REGION = "eu-west-1"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/BENCH0000000000000000000000000000"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
TEAMS = [f"team{i:03d}" for i in range(200)]


def secret_arn(name: str, rng: random.Random) -> str:
    suffix = "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6)
    )
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-{suffix}"


def trust(namespace: str, sa: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:sub": f"system:serviceaccount:{namespace}:{sa}",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def generate(out: Path, roles: int, secrets: int, service_accounts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (out / "k8s").mkdir(parents=True)
    (out / "aws").mkdir(parents=True)
    names = [f"{TEAMS[i % len(TEAMS)]}/app{i // len(TEAMS)}/secret{i}" for i in range(secrets)]
    arns = [secret_arn(n, rng) for n in names]
    (out / "aws" / "secretsmanager-list-secrets.json").write_text(
        json.dumps({"SecretList": [{"ARN": a, "Name": n} for a, n in zip(arns, names, strict=True)]})
    )
    role_details = []
    for r in range(roles):
        team = TEAMS[r % len(TEAMS)]
        own = rng.sample(range(secrets), 3)
        statements: list[dict[str, Any]] = [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": [arns[own[0]], arns[own[1]].rsplit("-", 1)[0] + "-??????"],
            }
        ]
        if r % 10 == 0:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{team}/*",
                }
            )
            statements.append(
                {
                    "Effect": "Deny",
                    "Action": "secretsmanager:*",
                    "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{team}/app0/*",
                }
            )
        if r % 50 == 0:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": arns[own[2]],
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                }
            )
        if r % 500 == 0:
            statements.append({"Effect": "Allow", "Action": "secretsmanager:Get*", "Resource": "*"})
        namespace, sa = team, f"sa{r}"
        role_details.append(
            {
                "RoleName": f"role{r}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/role{r}",
                "Path": "/",
                "AssumeRolePolicyDocument": trust(namespace, sa),
                "RolePolicyList": [
                    {
                        "PolicyName": "secrets",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                    }
                ],
                "AttachedManagedPolicies": [],
                "InstanceProfileList": [],
            }
        )
    (out / "aws" / "iam-authorization-details.json").write_text(
        json.dumps(
            {"RoleDetailList": role_details, "Policies": [], "UserDetailList": [], "GroupDetailList": []}
        )
    )
    (out / "aws" / "eks-describe-cluster.json").write_text(
        json.dumps(
            {
                "cluster": {
                    "name": "bench",
                    "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/bench",
                    "identity": {"oidc": {"issuer": f"https://{ISSUER}"}},
                }
            }
        )
    )
    items: list[dict[str, Any]] = []
    for r in range(min(service_accounts, roles)):
        team = TEAMS[r % len(TEAMS)]
        sa = f"sa{r}"
        role = role_details[r]
        declared = role["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]["Resource"]
        objects = "\n".join(
            f"- objectName: {a.split(':secret:')[1].rsplit('-', 1)[0]}\n  objectType: secretsmanager"
            for a in declared
        )
        items.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": sa,
                    "namespace": team,
                    "annotations": {"eks.amazonaws.com/role-arn": role["Arn"]},
                },
            }
        )
        items.append(
            {
                "apiVersion": "secrets-store.csi.x-k8s.io/v1",
                "kind": "SecretProviderClass",
                "metadata": {"name": sa, "namespace": team},
                "spec": {"provider": "aws", "parameters": {"region": REGION, "objects": objects}},
            }
        )
        items.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": sa, "namespace": team},
                "spec": {
                    "replicas": 3,
                    "template": {
                        "spec": {
                            "serviceAccountName": sa,
                            "containers": [{"name": "app", "image": "app"}],
                            "volumes": [
                                {
                                    "name": "s",
                                    "csi": {
                                        "driver": "secrets-store.csi.k8s.io",
                                        "readOnly": True,
                                        "volumeAttributes": {"secretProviderClass": sa},
                                    },
                                }
                            ],
                        }
                    },
                },
            }
        )
    (out / "k8s" / "cluster.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--secrets", type=int, default=100_000)
    parser.add_argument("--service-accounts", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        generate(state, args.roles, args.secrets, args.service_accounts)
        files = sorted(p for p in state.rglob("*.json"))
        t0 = time.perf_counter()
        for f in files:
            json.loads(f.read_text())
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        inventory = load_inventory(sources(state, (), None))
        t_read = time.perf_counter() - t0
        from iamscope.assess import assess

        t0 = time.perf_counter()
        assessment = assess(inventory, Config())
        t_assess = time.perf_counter() - t0
        t0 = time.perf_counter()
        findings = run_checks(assessment)
        t_checks = time.perf_counter() - t0
        total = t_read + t_assess + t_checks
        print(
            f"snapshot: {args.roles} roles, {args.secrets} secrets, {args.service_accounts} service accounts"
        )
        print(f"parse floor (json.loads of every file): {floor:7.2f} s")
        print(f"read + build inventory:                 {t_read:7.2f} s  ({t_read / floor:5.1f}x floor)")
        print(f"assess (identity, resolution, access):  {t_assess:7.2f} s  ({t_assess / floor:5.1f}x floor)")
        label = f"checks ({len(findings)} findings):"
        print(f"{label:<40}{t_checks:7.2f} s  ({t_checks / floor:5.1f}x floor)")
        print(f"scan total:                             {total:7.2f} s  ({total / floor:5.1f}x floor)")


if __name__ == "__main__":
    main()
