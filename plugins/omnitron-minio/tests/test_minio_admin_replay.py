"""MinIO's admin API (users, policies, bucket quotas), against a replay of its documented shapes.

This is a replay, not a MinIO: no MinIO server can be had on these machines
(there is no registry to pull the image from and no package ships the
binary), and the S3 server the other tests run, SeaweedFS, has no MinIO
admin API. The replay is a local HTTP server answering the admin endpoints
the preset calls, as MinIO documents them (``/minio/admin/v3/add-user``,
``add-canned-policy``, ``set-user-or-group-policy``, ``set-bucket-quota``;
JSON error bodies ``{"Code", "Message", ...}``; a ``Server: MinIO`` header).
It checks what a real MinIO would check: every request carries a valid SigV4
signature by the root credentials (verified here independently of the SDK),
and the new user's secret arrives encrypted with the root password (only
decryptable with it).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from omnitron.api import PlannedService, ProvisionError, ServiceHandle
from omnitron_minio.admin import RootAccess, bucket_only_policy
from omnitron_minio.server import admin_for, detect

pytestmark = pytest.mark.anyio

ROOT_USER, ROOT_PASSWORD = "replayroot", "replay-root-password-0123456789"


@pytest.fixture
def anyio_backend():
    return "asyncio"


def expected_signature(method: str, target: str, headers: dict[str, str], body: bytes, secret: str) -> tuple[str, str]:
    """(the signature a SigV4 signer with ``secret`` computes for this request, the one the request carries)."""
    auth = headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 ")
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    access_key, date, region, service, terminal = fields["Credential"].split("/")
    assert (access_key, service, terminal) == (ROOT_USER, "s3", "aws4_request")
    url = urlsplit(target)
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(parse_qsl(url.query, keep_blank_values=True)))
    signed = fields["SignedHeaders"].split(";")
    assert {"host", "x-amz-date", "x-amz-content-sha256"} <= set(signed)
    payload_hash = headers["x-amz-content-sha256"]
    assert payload_hash == hashlib.sha256(body).hexdigest(), "the signed payload hash is not the body's"
    canonical = "\n".join([method, url.path, query, "".join(f"{h}:{headers[h].strip()}\n" for h in signed), ";".join(signed), payload_hash])
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), fields["Signature"]


class _Stream(io.BytesIO):
    """What ``minio.crypto.decrypt`` reads from (a urllib3 response)."""

    def release_conn(self) -> None:
        pass


class MinioAdminReplay(BaseHTTPRequestHandler):
    calls: list[dict]
    known_buckets: set[str]

    def log_message(self, *args: object) -> None:
        pass

    def version_string(self) -> str:
        return "MinIO"  # the Server header MinIO sends

    def _reply(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, {"Code": code, "Message": message, "Resource": urlsplit(self.path).path, "RequestId": "17A1B2C3D4E5F607", "HostId": "replay"})

    def do_GET(self) -> None:
        # an anonymous S3 request: MinIO refuses it, and says who it is
        self._error(403, "AccessDenied", "Access Denied.")

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        wanted, got = expected_signature("PUT", self.path, headers, body, ROOT_PASSWORD)
        if wanted != got:
            return self._error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        call = {"path": url.path.removeprefix("/minio/admin/v3/"), "query": query}
        if call["path"] == "add-user":
            from minio.crypto import decrypt

            call["payload"] = json.loads(decrypt(_Stream(body), ROOT_PASSWORD))
            call["plain_secret_in_body"] = call["payload"]["secretKey"].encode() in body
        elif call["path"] in ("add-canned-policy", "set-bucket-quota"):
            call["payload"] = json.loads(body)
            if call["path"] == "set-bucket-quota" and query["bucket"] not in self.known_buckets:
                self.calls.append(call)
                return self._error(404, "NoSuchBucket", "The specified bucket does not exist")
        elif call["path"] != "set-user-or-group-policy":
            return self._error(400, "XMinioAdminInvalidArgument", f"unknown admin call {call['path']}")
        self.calls.append(call)
        self._reply(200)


@pytest.fixture
def replay():
    handler = type("Replay", (MinioAdminReplay,), {"calls": [], "known_buckets": {"orders", "billing"}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def handle_for(endpoint: str) -> ServiceHandle:
    port = int(endpoint.rsplit(":", 1)[1])
    svc = PlannedService(name="storage", preset="minio", provider="external", host="127.0.0.1", ports={"api": port})

    async def no_exec(command: list[str]):
        raise AssertionError("MinIO is administered over HTTP, never by exec")

    return ServiceHandle(service=svc, project="shop", stack="dev", host="127.0.0.1", ports={"api": port}, secret=lambda name: "", exec=no_exec)


async def admin(endpoint: str, password: str = ROOT_PASSWORD):
    info = await detect(endpoint)
    assert info.kind == "minio"
    return admin_for(info, RootAccess(endpoint, ROOT_USER, password, "us-east-1"), handle_for(endpoint))


async def test_app_user_gets_its_key_and_a_policy_for_its_bucket_only(replay):
    handler, endpoint = replay
    await (await admin(endpoint)).ensure_user("orders", "AK0123456789ABCDEF01", "app-secret-value", "orders")
    add_user, add_policy, set_policy = handler.calls
    assert add_user["path"] == "add-user" and add_user["query"] == {"accessKey": "AK0123456789ABCDEF01"}
    assert add_user["payload"] == {"status": "enabled", "secretKey": "app-secret-value"}
    assert add_user["plain_secret_in_body"] is False
    assert add_policy["path"] == "add-canned-policy" and add_policy["query"] == {"name": "omnitron-bucket-orders"}
    assert add_policy["payload"] == bucket_only_policy("orders")
    assert set_policy["path"] == "set-user-or-group-policy"
    assert set_policy["query"] == {"policyName": "omnitron-bucket-orders", "userOrGroup": "AK0123456789ABCDEF01", "isGroup": "false"}


async def test_quotas_are_hard_quotas_and_cleared_with_zero(replay):
    handler, endpoint = replay
    await (await admin(endpoint)).enforce_quotas({"orders": 10_000_000_000, "billing": None})
    assert [(c["query"]["bucket"], c["payload"]) for c in handler.calls] == [
        ("billing", {"quota": 0, "quotatype": "hard"}),
        ("orders", {"quota": 10_000_000_000, "quotatype": "hard"}),
    ]


async def test_admin_errors_are_one_line_naming_the_service(replay):
    handler, endpoint = replay
    with pytest.raises(ProvisionError, match=r"service storage: MinIO admin API, setting the quota of bucket nowhere: .*NoSuchBucket"):
        await (await admin(endpoint)).enforce_quotas({"nowhere": 1024})
    with pytest.raises(ProvisionError, match=r"service storage: MinIO admin API, adding user .*SignatureDoesNotMatch"):
        await (await admin(endpoint, password="not-the-root-password")).ensure_user("orders", "AK0123456789ABCDEF01", "s", "orders")
