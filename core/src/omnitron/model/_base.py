"""Shared building blocks of the config models: the base model, durations, ports, sizes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Base of every declaration model.

    Unknown keys are errors (a typo must not be silently ignored). Fields are
    snake_case in Python and camelCase in files, as the spec spells them; both
    spellings are accepted on input. Field docstrings become descriptions in
    ``omnitron config schema`` (:mod:`.docs`), not at import.
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1}


def parse_duration(value: Any) -> int:
    """Parse ``"500ms"``, ``"5s"``, ``"2m"``, ``"1h"`` or an integer of milliseconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 500ms, 5s, 2m or an integer of milliseconds")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, float):
        if value < 0 or value != value:
            raise ValueError("a duration cannot be negative")
        return int(value)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            return int(float(m.group(1)) * _DURATION_UNITS[m.group(2)])
        raise ValueError(f"invalid duration {value!r}: use 500ms, 5s, 2m, 1h or an integer of milliseconds")
    raise ValueError("expected a duration such as 500ms, 5s, 2m or an integer of milliseconds")


Duration = Annotated[
    int,
    BeforeValidator(parse_duration),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": _DURATION_RE.pattern}], "description": "500ms, 5s, 2m, 1h, or milliseconds"}),
]
"""A duration in milliseconds; files may write ``"5s"``, ``"2m"``, ``"500ms"`` or an integer."""


def _check_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"port {value} is out of range 1-65535")
    return value


def _strict_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected an integer, not a boolean")
    return value


Port = Annotated[int, BeforeValidator(_strict_int), AfterValidator(_check_port), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 65535})]
"""A TCP port number, 1-65535."""

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_size(value: Any) -> int:
    """Parse ``"10gb"``, ``"512mb"``, ``"1GiB"`` or an integer of bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 512mb or 10gb")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m:
            unit = (m.group(2) or "").lower()
            base = 1024 if "i" in unit else 1000
            exp = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4}[unit[:1] if unit[:1] != "b" else "b"]
            return int(float(m.group(1)) * base**exp)
    raise ValueError(f"invalid size {value!r}: use a number of bytes or 512mb, 10gb, 1GiB")


Size = Annotated[
    int,
    BeforeValidator(parse_size),
    PlainSerializer(int),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": _SIZE_RE.pattern}], "description": "512mb, 10gb, 1GiB, or bytes"}),
]
"""A size in bytes; files may write ``"10gb"``, ``"512mb"``, ``"1GiB"``."""

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def check_bucket_name(value: str) -> str:
    """An S3 bucket name as S3 accepts it: 3-63 lowercase letters, digits, ``.`` and ``-``."""
    if not isinstance(value, str) or not _BUCKET_RE.match(value) or ".." in value or _IPV4_RE.match(value) or value.startswith("xn--"):
        raise ValueError(
            f"invalid bucket name {value!r}: S3 bucket names are 3-63 lowercase letters, digits, '.' and '-', "
            "start and end with a letter or digit, and are not IP addresses"
        )
    return value


BucketName = Annotated[
    str,
    AfterValidator(check_bucket_name),
    WithJsonSchema({"type": "string", "pattern": _BUCKET_RE.pattern, "description": "an S3 bucket name: 3-63 lowercase letters, digits, . and -"}),
]
"""An S3 bucket name (``uploads``, ``shop-media``); ``My_Bucket`` is refused."""

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=63)]
"""A service, app or stack name: letters, digits, ``_``, ``.`` and ``-``."""
