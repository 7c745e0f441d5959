"""AWS Signature Version 4 for the few S3 and IAM requests the preset makes.

Written here rather than taken from botocore because importing boto3 costs
about 0.6 s (botocore's signer alone 0.3 s), which every ``infra up`` would
pay (see ``benchmarks/s3_cold_start.py``); the algorithm is AWS's documented
one: canonical request, string to sign, HMAC-SHA256 key derivation. Paths
and query strings are given already encoded (:func:`encode`), so what is
signed is byte for byte what is sent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


def encode(value: str, *, path: bool = False) -> str:
    """URI-encode as SigV4 wants: everything but ``A-Za-z0-9-_.~`` (and ``/`` in a path)."""
    return quote(value, safe="/-_.~" if path else "-_.~")


def query_string(params: Mapping[str, str]) -> str:
    """The canonical (sorted, encoded) query string; also what goes on the wire."""
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_key).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def sign(
    method: str, host: str, path: str, query: str, headers: Mapping[str, str], body: bytes, *,
    access_key: str, secret_key: str, region: str, service: str, now: datetime | None = None,
) -> dict[str, str]:
    """The request's headers with ``x-amz-date``, ``x-amz-content-sha256`` and ``Authorization`` added.

    :param host: the ``Host`` header the request is sent with (``127.0.0.1:9000``).
    :param path: the encoded path (``/bucket/key%20name``).
    :param query: the canonical query string (:func:`query_string`).
    """
    moment = now or datetime.now(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed.update({"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload})
    names = sorted(signed)
    canonical = "\n".join([method.upper(), path or "/", query, "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names), payload])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(signing_key(secret_key, amz_date[:8], region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    out = {k: v for k, v in headers.items()}
    out.update({
        "x-amz-date": amz_date,
        "x-amz-content-sha256": payload,
        "Authorization": f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}",
    })
    return out
