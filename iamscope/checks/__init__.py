"""The checks, one module per family; importing this package registers every rule (findings.RULES)."""

from iamscope.checks import driver, driver_rbac, grants, identity, rotation

__all__ = ["driver", "driver_rbac", "grants", "identity", "rotation"]
