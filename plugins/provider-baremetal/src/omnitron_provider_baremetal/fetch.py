"""One GET of a JSON document from a discovery service (httpx, imported when needed), every failure one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .backend import DiscoveryError

if TYPE_CHECKING:
    import ssl


def _query(parts: list[str]) -> str:
    encoded = []
    for part in parts:
        key, sep, value = part.partition("=")
        encoded.append(quote(key, safe="") + (f"={quote(value, safe='')}" if sep else ""))
    return "&".join(encoded)


async def get_json(
    url: str,
    *,
    query: list[str] | tuple[str, ...] = (),
    headers: dict[str, str],
    timeout: float,
    verify: bool | str | ssl.SSLContext,
    field: str,
    token_field: str | None = None,
    what: str,
) -> Any:
    """``GET url?query`` as JSON; :class:`DiscoveryError` naming ``field`` (or ``token_field`` on 401/403) otherwise.

    ``query`` items are ``key=value`` or a bare ``key`` (sent without ``=``, as Consul documents ``?passing``).
    """
    import httpx

    full = f"{url}?{_query(list(query))}" if query else url
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=verify, trust_env=False) as client:
            response = await client.get(full, headers=headers)
    except httpx.TimeoutException:
        raise DiscoveryError(f"{url} does not answer within {timeout:g}s ({what})", field=field) from None
    except httpx.HTTPError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DiscoveryError(f"{url} does not answer ({what}): {reason}", field=field) from None
    if response.status_code in (401, 403):
        raise DiscoveryError(f"{what} refused the request ({response.status_code}): {_first_line(response.text)}", field=token_field or field)
    if response.status_code != 200:
        raise DiscoveryError(f"{what} at {url} answered {response.status_code}: {_first_line(response.text)}", field=field)
    try:
        return response.json()
    except ValueError:
        raise DiscoveryError(f"{what} at {url} answered something that is not JSON: {_first_line(response.text)}", field=field) from None


def _first_line(text: str) -> str:
    text = text.strip()
    return (text.splitlines()[0] if text else "(no body)")[:200]
