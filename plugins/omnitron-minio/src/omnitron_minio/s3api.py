"""The S3 data plane, the same on every server: buckets, their anonymous policy, versioning, listings.

A small async client over httpx with requests signed by :mod:`.sigv4`
(boto3's import alone would double a cold ``infra up``). It speaks the few
REST calls the preset needs, path-style as MinIO and SeaweedFS expect, and
turns S3's XML errors into :class:`S3Error`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import sigv4

TIMEOUT = 30.0


class S3Error(Exception):
    """An S3 (or IAM) error answer: its HTTP status and code (``AccessDenied``, ``NoSuchBucketPolicy``)."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{code} ({status})" + (f": {message}" if message else ""))
        self.status = status
        self.code = code


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_values(body: str | bytes, name: str) -> list[str]:
    """The text of every element called ``name`` (namespaces ignored)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [el.text or "" for el in root.iter() if _local(el.tag) == name]


def _error(status: int, body: bytes) -> S3Error:
    codes, messages = xml_values(body, "Code"), xml_values(body, "Message")
    fallback = {403: "AccessDenied", 404: "NotFound"}.get(status, f"HTTP{status}")
    return S3Error(status, codes[0] if codes else fallback, messages[0] if messages else "")


@dataclass
class Client:
    """Signed requests to one S3 endpoint with one key pair (``anonymous``: unsigned)."""

    endpoint: str
    access_key: str | None
    secret_key: str | None
    region: str
    anonymous: bool = False

    async def request(self, method: str, path: str = "/", params: dict[str, str] | None = None, body: bytes = b"", *, service: str = "s3", headers: dict[str, str] | None = None) -> Any:
        """Send one request; the response (status < 300), else :class:`S3Error`."""
        import httpx

        query = sigv4.query_string(params or {})
        host = urlsplit(self.endpoint).netloc
        sent = dict(headers or {})
        if not self.anonymous:
            sent = sigv4.sign(method, host, path, query, sent, body, access_key=self.access_key or "", secret_key=self.secret_key or "", region=self.region, service=service)
        url = f"{self.endpoint}{path}" + (f"?{query}" if query else "")
        # certificates are loaded only for https (loading them costs ~40 ms per client)
        async with httpx.AsyncClient(timeout=TIMEOUT, verify=self.endpoint.startswith("https:")) as http:
            response = await http.request(method, url, content=body, headers=sent)
        if response.status_code >= 300:
            raise _error(response.status_code, response.content)
        return response

    # -- buckets -----------------------------------------------------------

    async def bucket_exists(self, bucket: str) -> bool:
        try:
            await self.request("HEAD", f"/{sigv4.encode(bucket)}")
        except S3Error as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def ensure_bucket(self, bucket: str) -> bool:
        """Create ``bucket`` unless it exists; ``True`` when it was created now."""
        if await self.bucket_exists(bucket):
            return False
        body = b""
        if self.region != "us-east-1":
            body = f'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>{self.region}</LocationConstraint></CreateBucketConfiguration>'.encode()
        try:
            await self.request("PUT", f"/{sigv4.encode(bucket)}", body=body)
        except S3Error as exc:
            if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return False
            raise
        return True

    async def policy(self, bucket: str) -> dict[str, Any] | None:
        """The bucket's policy, or ``None`` when it has none."""
        try:
            response = await self.request("GET", f"/{sigv4.encode(bucket)}", {"policy": ""})
        except S3Error as exc:
            if exc.code in ("NoSuchBucketPolicy", "NoSuchPolicy") or exc.status == 404:
                return None
            raise
        return json.loads(response.content) if response.content.strip() else None

    async def set_policy(self, bucket: str, policy: dict[str, Any] | None) -> None:
        if policy is None:
            await self.request("DELETE", f"/{sigv4.encode(bucket)}", {"policy": ""})
        else:
            await self.request("PUT", f"/{sigv4.encode(bucket)}", {"policy": ""}, json.dumps(policy).encode(), headers={"Content-Type": "application/json"})

    async def versioning(self, bucket: str) -> str | None:
        """``Enabled``, ``Suspended``, or ``None`` (never set)."""
        response = await self.request("GET", f"/{sigv4.encode(bucket)}", {"versioning": ""})
        status = xml_values(response.content, "Status")
        return status[0] if status and status[0] else None

    async def set_versioning(self, bucket: str, status: str) -> None:
        body = f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>{status}</Status></VersioningConfiguration>'.encode()
        await self.request("PUT", f"/{sigv4.encode(bucket)}", {"versioning": ""}, body)

    async def reaches(self, bucket: str) -> str | None:
        """``None`` when these credentials may use ``bucket``, else why not (the S3 error code)."""
        try:
            await self.request("GET", f"/{sigv4.encode(bucket)}", {"list-type": "2", "max-keys": "1"})
        except S3Error as exc:
            return exc.code
        return None

    # -- listings -----------------------------------------------------------

    async def bucket_names(self) -> list[str]:
        response = await self.request("GET", "/")
        return sorted(xml_values(response.content, "Name"))

    async def objects(self, bucket: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        """Up to ``limit`` objects of ``bucket``: key, size, last modified."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        while len(out) < limit:
            params = {"list-type": "2", "max-keys": str(min(1000, limit - len(out)))}
            if token:
                params["continuation-token"] = token
            root = ET.fromstring((await self.request("GET", f"/{sigv4.encode(bucket)}", params)).content)
            for item in (el for el in root if _local(el.tag) == "Contents"):
                fields = {_local(child.tag): child.text or "" for child in item}
                out.append({"key": fields.get("Key", ""), "size": int(fields.get("Size") or 0), "lastModified": fields.get("LastModified", "")})
            token = next((el.text for el in root if _local(el.tag) == "NextContinuationToken"), None)
            if not token:
                break
        return out


    # -- objects --------------------------------------------------------------

    @staticmethod
    def _object_path(bucket: str, key: str) -> str:
        return f"/{sigv4.encode(bucket)}/{sigv4.encode(key, path=True)}"

    async def get_object(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        """The object's bytes and its response headers (lower-case names)."""
        response = await self.request("GET", self._object_path(bucket, key))
        return response.content, {k.lower(): v for k, v in response.headers.items()}

    async def put_object(self, bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> None:
        await self.request("PUT", self._object_path(bucket, key), body=data, headers=headers)

    async def delete_object(self, bucket: str, key: str) -> None:
        await self.request("DELETE", self._object_path(bucket, key))


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Anonymous read of ``bucket``: list it and download its objects; nothing else (no write, no delete)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OmnitronPublicList", "Effect": "Allow", "Principal": "*", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Sid": "OmnitronPublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def grants_anonymous(policy: dict[str, Any] | None) -> bool:
    """Whether a bucket policy lets anyone (principal ``*``) in."""
    if not policy:
        return False
    for st in policy.get("Statement", []):
        principal = st.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("AWS")
        if st.get("Effect") == "Allow" and (principal == "*" or principal == ["*"]):
            return True
    return False


def _statements(policy: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """A policy's statements in a comparable form (servers normalise single-item lists to strings)."""

    def items(value: Any) -> tuple[str, ...]:
        return tuple(sorted([value] if isinstance(value, str) else list(value or [])))

    out = []
    for st in policy.get("Statement", []):
        principal = st.get("Principal")
        principal = principal.get("AWS", principal) if isinstance(principal, dict) else principal
        out.append((str(st.get("Effect")), str(items(principal)), items(st.get("Action")), items(st.get("Resource"))))
    return sorted(out)


async def set_public(s3: Client, bucket: str, public: bool) -> bool:
    """Make ``bucket`` anonymously readable, or private (no bucket policy); ``True`` when that changed something."""
    policy = await s3.policy(bucket)
    if public:
        wanted = public_read_policy(bucket)
        if policy is not None and _statements(policy) == _statements(wanted):
            return False
        await s3.set_policy(bucket, wanted)
        return True
    if policy is None:
        return False
    await s3.set_policy(bucket, None)
    return True


async def set_versioning(s3: Client, bucket: str, enabled: bool) -> None:
    status = await s3.versioning(bucket)
    wanted = "Enabled" if enabled else "Suspended"
    if status == wanted or (not enabled and status is None):
        return
    await s3.set_versioning(bucket, wanted)
