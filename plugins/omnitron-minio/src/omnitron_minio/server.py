"""Which S3 server answers at an endpoint: MinIO or SeaweedFS, told apart by the ``Server`` response header.

Both kinds speak the same S3 API; they differ in how users, policies and
quotas are administered (:mod:`.admin`). Every S3 response carries the
header, an anonymous ``GET /`` (refused with 403) included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from omnitron.api import ProvisionError

if TYPE_CHECKING:
    from omnitron.api import ServiceHandle

    from .admin import RootAccess, S3Admin

Kind = Literal["minio", "seaweedfs", "other"]
_VERSION = re.compile(r"^v?\d+(\.\d+)+")


@dataclass(frozen=True)
class ServerInfo:
    """What an S3 endpoint says it is."""

    kind: Kind
    banner: str
    """The ``Server`` header as sent (``SeaweedFS 8000GB 4.48``, ``MinIO``)."""

    @property
    def label(self) -> str:
        """For people: ``SeaweedFS 4.48``, ``MinIO``."""
        if self.kind == "seaweedfs":
            versions = [w for w in self.banner.split() if _VERSION.match(w)]
            return f"SeaweedFS {versions[-1]}" if versions else "SeaweedFS"
        if self.kind == "minio":
            return "MinIO"
        return self.banner or "an unknown S3 server"


def identify(server_header: str | None) -> ServerInfo:
    """Classify a ``Server`` header value."""
    banner = (server_header or "").strip()
    lowered = banner.lower()
    if lowered.startswith("seaweedfs"):
        return ServerInfo("seaweedfs", banner)
    if lowered.startswith("minio"):
        return ServerInfo("minio", banner)
    return ServerInfo("other", banner)


async def detect(endpoint: str, *, timeout: float = 10.0) -> ServerInfo:
    """Ask ``endpoint`` (``http://host:port``) which server it is (one anonymous request)."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout, verify=endpoint.startswith("https:")) as client:
            response = await client.get(f"{endpoint}/")
    except httpx.HTTPError as exc:
        raise ProvisionError(f"S3 endpoint {endpoint}: {type(exc).__name__}: {exc}") from None
    return identify(response.headers.get("server"))


def admin_for(info: ServerInfo, root: RootAccess, handle: ServiceHandle) -> S3Admin:
    """The administration of the server ``info`` describes."""
    if info.kind == "minio":
        from .admin_minio import MinioServerAdmin

        return MinioServerAdmin(root, handle)
    if info.kind == "seaweedfs":
        from .admin_seaweedfs import SeaweedAdmin

        return SeaweedAdmin(root, handle)
    raise ProvisionError(
        f"service {handle.name}: the S3 server at {root.endpoint} answers as {info.label!r}; omnitron administers "
        "per-app users and quotas on MinIO and SeaweedFS only"
    )
