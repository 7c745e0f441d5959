"""SeaweedFS, administered through its own means.

- Users, keys and policies: SeaweedFS's IAM API, served on the S3 port
  (``-s3.iam.readOnly=false``) and signed with the root credentials
  (SigV4, service ``iam``). ``CreateAccessKey`` takes the key pair omnitron
  generated, so the secret only travels in the body of a request to the
  local server: never on a command line, never in a file.
- Quotas: ``weed shell`` where the server runs (the process provider runs it
  beside the native server, the docker provider inside the container):
  ``s3.bucket.quota`` sets or removes a bucket's quota, and the sweep
  ``s3.bucket.quota.enforce -apply`` makes a bucket over its quota read-only
  (and writable again once it is under). SeaweedFS enforces quotas only
  through that sweep, so it runs on every ``infra up`` and daemon tick.
  These commands carry no secret. ``SEAWEED_MASTER`` and ``SEAWEED_FILER``
  (``host:port.grpcPort``) say where the shell connects; the native recipe and
  the stand-in image set them.
"""

from __future__ import annotations

import json
import math
from typing import ClassVar

from omnitron.api import ProvisionError

from .admin import S3Admin, bucket_only_policy, policy_name
from .s3api import Client, S3Error, xml_values

IAM_VERSION = "2010-05-08"
SHELL = 'printf "%s\\n" "$@" | exec timeout 60 weed shell -master="$SEAWEED_MASTER" -filer="$SEAWEED_FILER"'
"""Feeds the commands given as arguments to ``weed shell`` on its standard input."""
SHELL_CHECK = '[ -n "$SEAWEED_MASTER" ] && [ -n "$SEAWEED_FILER" ] || { echo "error: SEAWEED_MASTER and SEAWEED_FILER are not set where the server runs"; exit 3; }; '


def access_key_ids(body: bytes) -> list[str]:
    """The ``AccessKeyId`` values of a ``ListAccessKeys`` response."""
    return xml_values(body, "AccessKeyId")


def quota_commands(quotas: dict[str, int | None]) -> list[str]:
    """``weed shell`` lines setting (in MiB, rounded up) or removing each bucket's quota, then the enforcing sweep."""
    lines = []
    for bucket, size in sorted(quotas.items()):
        if size:
            lines.append(f"s3.bucket.quota -name={bucket} -op=set -sizeMB={max(1, math.ceil(size / 1024**2))}")
        else:
            lines.append(f"s3.bucket.quota -name={bucket} -op=remove")
    lines.append("s3.bucket.quota.enforce -apply")
    return lines


class SeaweedAdmin(S3Admin):
    kind: ClassVar[str] = "seaweedfs"

    async def iam(self, action: str, **params: str) -> bytes:
        """One IAM API call (a signed form POST to the S3 port); the response body (XML), or :class:`S3Error`."""
        import httpx
        from urllib.parse import urlencode

        body = urlencode({"Action": action, "Version": IAM_VERSION, **params}).encode()
        root = Client(self.root.endpoint, self.root.user, self.root.password, self.root.region)
        try:
            response = await root.request("POST", "/", body=body, service="iam", headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        except httpx.HTTPError as exc:
            raise ProvisionError(f"service {self.handle.name}: SeaweedFS IAM API at {self.root.endpoint}: {type(exc).__name__}: {exc}") from None
        return response.content

    async def _iam(self, what: str, action: str, **params: str) -> bytes:
        try:
            return await self.iam(action, **params)
        except S3Error as exc:
            raise ProvisionError(f"service {self.handle.name}: SeaweedFS IAM {action} ({what}): {exc}") from None

    async def ensure_user(self, user: str, access_key: str, secret_key: str, bucket: str) -> None:
        try:
            await self.iam("GetUser", UserName=user)
        except S3Error as exc:
            if exc.code != "NoSuchEntity" and exc.status != 404:
                raise ProvisionError(f"service {self.handle.name}: SeaweedFS IAM GetUser ({user}): {exc}") from None
            await self._iam(f"user {user}", "CreateUser", UserName=user)
        keys = access_key_ids(await self._iam(f"user {user}", "ListAccessKeys", UserName=user))
        if access_key in keys:  # its secret may be another one: make it the stored one
            await self._iam(f"user {user}", "DeleteAccessKey", UserName=user, AccessKeyId=access_key)
        await self._iam(f"user {user}", "CreateAccessKey", UserName=user, AccessKeyId=access_key, SecretAccessKey=secret_key)
        await self._iam(f"user {user}", "PutUserPolicy", UserName=user, PolicyName=policy_name(bucket), PolicyDocument=json.dumps(bucket_only_policy(bucket)))

    async def shell(self, commands: list[str]) -> str:
        """Run ``weed shell`` ``commands`` where the server runs; its output, or a :class:`ProvisionError`."""
        result = await self.handle.exec(["sh", "-c", SHELL_CHECK + SHELL, "sh", *commands])
        failed = [line.strip() for line in result.output.splitlines() if line.strip().lower().startswith("error")]
        if result.exit_code != 0 or failed:
            detail = " | ".join(failed or result.output.strip().splitlines()[-3:]) or f"exit {result.exit_code}"
            raise ProvisionError(f"service {self.handle.name}: weed shell ({'; '.join(commands)}): {detail}")
        return result.output

    async def enforce_quotas(self, quotas: dict[str, int | None]) -> None:
        await self.shell(quota_commands(quotas))
