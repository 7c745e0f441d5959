"""Administering an S3 server: per-app users confined to one bucket, and bucket quotas.

The S3 API has no users or quotas, so this is where the two server kinds
differ. :class:`S3Admin` is the interface; :func:`~.server.admin_for` picks
the implementation for the server :func:`~.server.detect` found:

- MinIO: its admin API (:mod:`.admin_minio`, through the ``minio`` SDK's
  ``MinioAdmin``): users, canned policies, hard bucket quotas;
- SeaweedFS: its IAM API on the S3 port for users and policies, and
  ``weed shell`` where the server runs for quotas, enforced by a sweep
  (:mod:`.admin_seaweedfs`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketVersions")
OBJECT_ACTIONS = (
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload", "s3:GetObjectTagging", "s3:PutObjectTagging",
)
"""What an app may do: the actions both MinIO and SeaweedFS know (multipart uploads count as ``PutObject``)."""


def bucket_only_policy(bucket: str) -> dict[str, Any]:
    """An IAM policy allowing reads and writes of ``bucket``'s objects, and nothing else.

    Not the bucket's own settings (policy, deletion, quota): an app cannot make its bucket public.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OmnitronBucket", "Effect": "Allow", "Action": list(BUCKET_ACTIONS), "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Sid": "OmnitronObjects", "Effect": "Allow", "Action": list(OBJECT_ACTIONS), "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def policy_name(bucket: str) -> str:
    return f"omnitron-bucket-{bucket}"


@dataclass(frozen=True)
class RootAccess:
    """Where the server answers and its root credentials."""

    endpoint: str
    """``http://host:port`` of the S3 API."""
    user: str
    password: str
    region: str


class S3Admin(ABC):
    """Users, policies and quotas of one kind of S3 server.

    Every method is idempotent: it runs on every ``infra up`` (and quotas on
    every reconcile tick).
    """

    kind: ClassVar[str]

    def __init__(self, root: RootAccess, handle: ServiceHandle) -> None:
        self.root = root
        self.handle = handle

    @abstractmethod
    async def ensure_user(self, user: str, access_key: str, secret_key: str, bucket: str) -> None:
        """Make ``user`` exist with exactly this key pair, allowed on ``bucket`` only."""

    @abstractmethod
    async def enforce_quotas(self, quotas: dict[str, int | None]) -> None:
        """Give each bucket its quota in bytes (``None``: no quota) and make the server enforce them."""
