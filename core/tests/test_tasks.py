"""Concurrent steps: failures the user caused stay one error; anything else is never swallowed."""

from __future__ import annotations

import anyio
import pytest

from omnitron.errors import ConfigError, ProvisionError
from omnitron.tasks import task_group

pytestmark = pytest.mark.anyio


async def _fail(exc: BaseException) -> None:
    raise exc  # at once, before any checkpoint: every task started fails, none is cancelled first


async def test_one_failure_comes_back_as_itself() -> None:
    error = ProvisionError("service db: cannot remove its volume")
    with pytest.raises(ProvisionError) as caught:
        async with task_group() as tg:
            tg.start_soon(_fail, error)
            tg.start_soon(anyio.sleep, 5)
    assert caught.value is error


async def test_several_failures_are_one_error_holding_every_message() -> None:
    with pytest.raises(ConfigError) as caught:
        async with task_group() as tg:
            tg.start_soon(_fail, ConfigError("bad port", file="omnitron.toml", path="services.a.ports"))
            tg.start_soon(_fail, ProvisionError("service b: stuck"))
            tg.start_soon(_fail, ProvisionError("service c: stuck"))
    text = str(caught.value)
    assert text.startswith("omnitron.toml: services.a.ports: bad port (and 2 more: ")
    assert "service b: stuck" in text and "service c: stuck" in text
    assert caught.value.exit_code == 2 and caught.value.file == "omnitron.toml"


async def test_a_bug_beside_a_user_error_is_not_swallowed() -> None:
    with pytest.raises(BaseExceptionGroup) as caught:
        async with task_group() as tg:
            tg.start_soon(_fail, ProvisionError("service a: stuck"))
            tg.start_soon(_fail, KeyError("oops"))
    kinds = sorted(type(e).__name__ for e in caught.value.exceptions)
    assert kinds == ["KeyError", "ProvisionError"]


async def test_nested_groups_are_flattened() -> None:
    async def inner() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_fail, ProvisionError("x: one"))
            tg.start_soon(_fail, ProvisionError("y: two"))

    with pytest.raises(ProvisionError, match=r"^x: one \(and 1 more: y: two\)$|^y: two \(and 1 more: x: one\)$"):
        async with task_group() as tg:
            tg.start_soon(inner)
