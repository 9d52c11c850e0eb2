"""The constrained field types that request bodies (``api.contract``) and the
control-plane file (``control.plane_file``) share: names as the store accepts them
(its patterns), integers and times as JSON carries them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints

from prism_platform.db.records import (
    BUCKET_PATTERN,
    CONFIG_PATTERN,
    MAX_SCRIPT_PATH,
    SCENE_PATTERN,
    SCRIPT_PATH_PATTERN,
    TABLE_PATTERN,
    USER_PATTERN,
)


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return value


def _text_time(value: object) -> object:
    if isinstance(value, str | datetime):
        return value
    raise ValueError("expected a date-time as ISO-8601 text")


Int = Annotated[int, Field(strict=False), BeforeValidator(_number)]
"""An integer in a strict model: a JSON number without a fraction, ``3.0`` as well as
``3`` (JSON Schema's ``integer``), never text or a boolean."""
IsoTime = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_text_time)]
"""A date-time with a timezone, sent as ISO-8601 text (a strict model takes no text for
a datetime; a lax one would take numbers too)."""
SceneName = Annotated[str, StringConstraints(pattern=SCENE_PATTERN)]
BucketName = Annotated[str, StringConstraints(pattern=BUCKET_PATTERN)]
"""Buckets and layers."""
ConfigName = Annotated[str, StringConstraints(pattern=CONFIG_PATTERN)]
UserName = Annotated[str, StringConstraints(pattern=USER_PATTERN)]
TableName = Annotated[str, StringConstraints(pattern=TABLE_PATTERN)]
ScriptPath = Annotated[
    str, StringConstraints(max_length=MAX_SCRIPT_PATH, pattern=SCRIPT_PATH_PATTERN)
]
