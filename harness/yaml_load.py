"""The one YAML loader the harness reads with.

libyaml's C loader is several times faster on descriptions and cassettes; PyYAML built
without libyaml has only the pure-Python one. Both are safe loaders: nothing read from a
user's file can build Python objects.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document safely (raises `yaml.YAMLError`, which callers turn into theirs)."""
    return yaml.load(text, Loader=SafeLoader)
