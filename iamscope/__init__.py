"""iamscope: least-privilege IAM for Kubernetes workloads that read AWS secrets through the
Secrets Store CSI Driver."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iamscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
