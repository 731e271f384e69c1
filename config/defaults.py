"""Defaults that differ between a development and a production environment.

They are merged *under* the YAML file before validation, so a file states only what it changes. Every
file names its tier (``tier: development`` or ``tier: production``); the file name never decides it.
"""

from __future__ import annotations

from typing import Any

TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "development": {
        "network": {"single_nat_gateway": True, "flow_logs": False},
        "logs": {"retention_days": 7},
        "database": {
            "instance_class": "db.t4g.micro",
            "allocated_storage": 20,
            "max_allocated_storage": 100,
            "multi_az": False,
            "backup_retention_days": 7,
            "deletion_protection": False,
            "final_snapshot": False,
        },
        "uploads": {"versioning": False},
        "backend": {
            "cpu": 256,
            "memory": 512,
            "desired_count": 1,
            "min_count": 1,
            "max_count": 1,
            "image_tag": "latest",
        },
        "alarms": {"enabled": False},
    },
    "production": {
        "network": {"single_nat_gateway": False, "flow_logs": True},
        "logs": {"retention_days": 90},
        "database": {
            "instance_class": "db.m6g.xlarge",
            "allocated_storage": 100,
            "max_allocated_storage": 500,
            "multi_az": True,
            "backup_retention_days": 30,
            "deletion_protection": True,
            "final_snapshot": True,
        },
        "uploads": {"versioning": True},
        "backend": {
            "cpu": 512,
            "memory": 1024,
            "desired_count": 1,
            "min_count": 1,
            "max_count": 1,
            "image_tag": "latest",
        },
        "alarms": {"enabled": True},
    },
}


def merge(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``values`` over ``defaults``; neither input is changed. Non-dict values replace."""
    merged = dict(defaults)
    for key, value in values.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = merge(base, value)
        else:
            merged[key] = value
    return merged
