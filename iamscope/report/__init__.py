"""Renderers of a scan: text for people, json (iamscope.scan/v1) for scripts, markdown for PR comments."""
