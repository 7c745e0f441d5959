"""A real MinIO, administered through its admin API (``/minio/admin/v3/...``) with the ``minio`` SDK.

``MinioAdmin`` signs each request with SigV4 and encrypts the payloads that
carry secrets (a new user's secret key) with the root password, as MinIO
requires; re-implementing that here would only copy the SDK. Its calls block
and are run in a worker thread.

- a user is its access key: ``add-user`` (sets the secret again when the user exists);
- ``add-canned-policy`` ``omnitron-bucket-<bucket>`` (overwritten each time), then
  ``set-user-or-group-policy`` makes it the user's only policy;
- ``set-bucket-quota`` with a hard quota (``0`` clears it): MinIO refuses
  writes past it by itself, so there is nothing to sweep.
"""

from __future__ import annotations

from typing import Any, ClassVar

from omnitron.api import ProvisionError

from .admin import S3Admin, bucket_only_policy, policy_name

TIMEOUT = 15.0


class MinioServerAdmin(S3Admin):
    kind: ClassVar[str] = "minio"

    def _client(self) -> Any:
        from urllib.parse import urlsplit

        import urllib3
        from minio import MinioAdmin
        from minio.credentials import StaticProvider

        url = urlsplit(self.root.endpoint)
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=TIMEOUT, read=TIMEOUT), retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[502, 503, 504]))
        return MinioAdmin(endpoint=url.netloc, credentials=StaticProvider(self.root.user, self.root.password), region=self.root.region, secure=url.scheme == "https", http_client=http)

    async def _call(self, what: str, fn: Any) -> Any:
        from minio.error import MinioAdminException

        import anyio

        try:
            return await anyio.to_thread.run_sync(fn)
        except MinioAdminException as exc:
            raise ProvisionError(f"service {self.handle.name}: MinIO admin API, {what}: {exc}") from None
        except OSError as exc:
            raise ProvisionError(f"service {self.handle.name}: MinIO admin API at {self.root.endpoint}, {what}: {exc}") from None

    async def ensure_user(self, user: str, access_key: str, secret_key: str, bucket: str) -> None:
        admin = self._client()
        name = policy_name(bucket)
        await self._call(f"adding user {access_key} (app {user})", lambda: admin.user_add(access_key, secret_key))
        await self._call(f"adding policy {name}", lambda: admin.policy_add(name, policy=bucket_only_policy(bucket)))
        await self._call(f"giving {access_key} policy {name}", lambda: admin.policy_set(name, user=access_key))

    async def enforce_quotas(self, quotas: dict[str, int | None]) -> None:
        admin = self._client()
        for bucket, size in sorted(quotas.items()):
            if size:
                await self._call(f"setting the quota of bucket {bucket}", lambda b=bucket, s=size: admin.bucket_quota_set(b, s))
            else:
                await self._call(f"clearing the quota of bucket {bucket}", lambda b=bucket: admin.bucket_quota_clear(b))
