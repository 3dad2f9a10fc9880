"""`iamscope harden`: the artefacts that enforce the driver hardening the scan checks for, from the
configuration and the cluster: a Kyverno ClusterPolicy (who may write SecretProviderClasses, where
secretObjects may sync, pods may not steer their volumes inline), hardened Helm values for the driver
and the AWS provider charts, and Falco rules for SPC changes by anyone outside the platform.

A room of its own rather than part of `generate/`, which writes per-service-account IAM: these are
cluster-wide Kubernetes artefacts with other consumers (Kyverno, Helm, Falco) and other inputs."""

from iamscope.harden.files import harden_files, write_harden
from iamscope.harden.plan import HardenPlan, harden_plan
from iamscope.harden.summary import render_harden_summary

__all__ = ["HardenPlan", "harden_files", "harden_plan", "render_harden_summary", "write_harden"]
