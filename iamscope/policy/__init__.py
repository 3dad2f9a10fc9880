"""IAM semantics: ARNs, pattern matching, policy documents, evaluation (concrete and with unknown
context), the action catalogue and the ARN index. Everything here is pure and knows nothing of
Kubernetes; the rest of iamscope asks this package what AWS would decide."""

from iamscope.policy.actions import (
    expand_actions,
    reads_secret_material,
    secret_reading_actions,
    service_actions,
)
from iamscope.policy.analysis import Analysis, analyse
from iamscope.policy.arn import Arn, parse_arn, try_parse_arn
from iamscope.policy.context import RequestContext
from iamscope.policy.document import Condition, PolicyDocument, Principals, Statement, parse_policy
from iamscope.policy.evaluate import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision, StatementRef, evaluate
from iamscope.policy.index import ArnIndex
from iamscope.policy.wildcard import action_matches, resource_matches

__all__ = [
    "ALLOW",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Analysis",
    "Arn",
    "ArnIndex",
    "Condition",
    "Decision",
    "PolicyDocument",
    "Principals",
    "RequestContext",
    "Statement",
    "StatementRef",
    "action_matches",
    "analyse",
    "evaluate",
    "expand_actions",
    "parse_arn",
    "parse_policy",
    "reads_secret_material",
    "resource_matches",
    "secret_reading_actions",
    "service_actions",
    "try_parse_arn",
]
