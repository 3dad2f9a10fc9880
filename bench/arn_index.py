"""How much the ARN index saves over testing every ARN against every pattern.

    .venv/bin/python bench/arn_index.py [--secrets 100000] [--patterns 2000]

Prints the time for both ways over the same synthetic secrets and policy patterns (a mix of exact
ARNs with `-??????`, team prefixes, region/account wildcards and `*`), their ratio, and checks that
both give the same answers.
"""

from __future__ import annotations

import argparse
import random
import time

from iamscope.policy import ArnIndex, resource_matches

REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
ACCOUNTS = ("111122223333", "444455556666")
TEAMS = tuple(f"team{i:03d}" for i in range(200))


def secrets(count: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(count):
        region, account, team = rng.choice(REGIONS), rng.choice(ACCOUNTS), rng.choice(TEAMS)
        suffix = "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(6)
        )
        out.append(f"arn:aws:secretsmanager:{region}:{account}:secret:prod/{team}/svc{i}-{suffix}")
    return out


def patterns(count: int, arns: list[str], rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        kind = rng.random()
        arn = rng.choice(arns)
        if kind < 0.6:
            out.append(arn[:-6] + "??????")
        elif kind < 0.85:
            out.append(arn.rsplit("/", 1)[0] + "/*")
        elif kind < 0.99:
            team = arn.split("/")[1]
            out.append(f"arn:aws:secretsmanager:*:*:secret:prod/{team}/*")
        else:
            out.append("*")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--secrets", type=int, default=100_000)
    parser.add_argument("--patterns", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    arns = secrets(args.secrets, rng)
    pats = patterns(args.patterns, arns, rng)

    start = time.perf_counter()
    index = ArnIndex(arns)
    built = time.perf_counter() - start
    start = time.perf_counter()
    fast = [index.match(p) for p in pats]
    indexed = time.perf_counter() - start

    brute_pats = pats[: max(1, len(pats) // 20)]  # the brute force is sampled: it is the slow one
    ordered = sorted(set(arns))
    start = time.perf_counter()
    slow = [tuple(a for a in ordered if resource_matches(p, a)) for p in brute_pats]
    brute = (time.perf_counter() - start) * len(pats) / len(brute_pats)
    assert slow == fast[: len(brute_pats)], "index and brute force disagree"

    print(f"{args.secrets} secrets, {args.patterns} patterns")
    print(f"  index build        {built:8.3f} s")
    print(f"  indexed matching   {indexed:8.3f} s")
    print(f"  brute force (est.) {brute:8.3f} s   (measured on {len(brute_pats)} patterns, scaled)")
    print(f"  speed-up           {brute / indexed:8.1f} x")


if __name__ == "__main__":
    main()
