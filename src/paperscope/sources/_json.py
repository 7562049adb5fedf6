"""Parsing JSON bodies shared by the JSON sources: one message shape for a body that is not what was asked."""

from __future__ import annotations

import json
from typing import Any


def json_list(body: bytes, what: str) -> list[Any]:
    """A response body that must be a JSON list of `what`, or ValueError saying what came instead."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list of {what}, got {type(data).__name__}")
    return data
