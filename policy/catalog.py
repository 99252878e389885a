"""The catalog of policy keys (政策参数目录) and the YAML reader shared by policy and scenario files.

Every key a rule may ask for is listed under ``policy/policies/catalog/<topic>.yaml`` with its Chinese label.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ImproperlyConfigured, ValidationError

POLICY_DIR = Path(__file__).resolve().parent / "policies"


class _DecimalLoader(yaml.SafeLoader):
    """YAML loader that reads decimal numbers as ``Decimal`` (never float)."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

# YAML 1.1 reads on/off/yes/no as booleans; scenario files use `on:` as a key. Only true/false are booleans here.
_DecimalLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_DecimalLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_DecimalLoader)


@lru_cache(maxsize=1)
def catalog_labels() -> dict[str, str]:
    """Every known parameter key with its Chinese label."""
    labels: dict[str, str] = {}
    for path in sorted((POLICY_DIR / "catalog").glob("*.yaml")):
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise ImproperlyConfigured(f"{path}: a catalog is a mapping key → label")
        for key, label in data.items():
            if key in labels:
                raise ImproperlyConfigured(f"{path}: key {key} is already in another catalog file")
            labels[key] = str(label)
    return labels


def validate_value(key: str, value: Any) -> Any:
    """A value for KEY as staff or a scenario give it, checked against the catalog."""
    if key not in catalog_labels():
        raise ValidationError(f"未知政策参数（不在参数目录中）：{key}")
    return value
