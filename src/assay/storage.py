"""Where file bytes live: the data directory (the embedded default) or any S3-compatible
object store (`ASSAY_STORAGE_URL=s3://bucket/prefix`, with ASSAY_S3_* for the endpoint and
credentials), so several machines share uploads and export files without a shared disk.

Keys are relative paths (`files/<org>/<file>`, `exports/<org>/<job>.<ext>`, and the media
made from a file, `media/<org>/<file>/…`). With object storage the data directory is each
machine's cache of what it has read; the bucket is the truth. Downloads are presigned links
to the store (`url`), never proxied through the app."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from assay.config import get_settings


class MissingObject(LookupError):
    """No object under this key."""


class ObjectTooLarge(ValueError):
    """An object larger than the caller's limit."""


class LocalStorage:
    """Files under a root directory (DATA_DIR): the embedded default. No links of its own
    (`url` is None): the app serves its files behind its own signed links."""

    remote = False

    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> None:
        target = self.path(key)
        if target != source:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise MissingObject(key) from None

    def download(self, key: str, target: Path, limit: int | None = None) -> None:
        source = self.path(key)
        if not source.is_file():
            raise MissingObject(key)
        if limit is not None and source.stat().st_size > limit:
            raise ObjectTooLarge(key)
        if source != target:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

    def head_bytes(self, key: str, size: int) -> bytes:
        try:
            with open(self.path(key), "rb") as handle:
                return handle.read(size)
        except FileNotFoundError:
            raise MissingObject(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def url(self, key: str, seconds: int, filename: str | None = None, content_type: str | None = None) -> str | None:
        return None


class S3Storage:
    """An S3-compatible bucket (AWS S3, SeaweedFS, MinIO, R2, …) through boto3."""

    remote = True

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, region: str, access_key: str | None, secret_key: str | None):
        import boto3  # noqa: PLC0415 - the optional `s3` extra loads only when object storage is configured
        from botocore.config import Config  # noqa: PLC0415 - as boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region, aws_access_key_id=access_key or None,
                                   aws_secret_access_key=secret_key or None,
                                   config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 3}))
        self._errors = self.client.exceptions

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_file(str(source), self.bucket, self._key(key), ExtraArgs=extra)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **({"ContentType": content_type} if content_type else {}))

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self._errors.NoSuchKey:
            raise MissingObject(key) from None

    def download(self, key: str, target: Path, limit: int | None = None) -> None:
        """Into the local cache, atomically (a reader never sees half a file); with `limit`,
        an object larger than that many bytes is refused (ObjectTooLarge) before a byte is
        written."""
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")  # unique per call: threads of one process fetch too
        try:
            with open(part, "wb") as out:
                if limit is None:
                    self._fetch(key, out)
                else:
                    with self._opened(self._key(key), limit) as got:
                        for chunk in got["Body"].iter_chunks(1 << 20):
                            out.write(chunk)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)

    def _fetch(self, key: str, out: BinaryIO) -> None:
        try:
            self.client.download_fileobj(self.bucket, self._key(key), out)
        except Exception as exc:  # botocore raises ClientError 404 here, not NoSuchKey
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise MissingObject(key) from None
            raise

    def head_bytes(self, key: str, size: int) -> bytes:
        """The object's first `size` bytes (one ranged GET; what a content sniffer reads)."""
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=f"bytes=0-{size - 1}")
        except self._errors.NoSuchKey:
            raise MissingObject(key) from None
        except Exception as exc:  # an empty object has no byte 0: 416
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise
        try:
            return got["Body"].read()
        finally:
            got["Body"].close()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    # Bucket imports read objects outside this server's prefix: these take keys of the
    # whole bucket (the caller checked they may be read).

    def objects_under(self, bucket_prefix: str, limit: int) -> list[tuple[str, int]]:
        """(key, size) of the objects whose key starts with `bucket_prefix`, in key order;
        at most `limit` + 1 (one more says there are too many)."""
        found: list[tuple[str, int]] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=bucket_prefix):
            for item in page.get("Contents", []):
                found.append((item["Key"], item["Size"]))
                if len(found) > limit:
                    return found
        return found

    @contextmanager
    def _opened(self, bucket_key: str, limit: int) -> Iterator[dict]:
        """An object's GET response (its body closed after), refused over `limit` bytes."""
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=bucket_key)
        except self._errors.NoSuchKey:
            raise MissingObject(bucket_key) from None
        try:
            if got["ContentLength"] > limit:
                raise ObjectTooLarge(bucket_key)
            yield got
        finally:
            got["Body"].close()

    def read_object(self, bucket_key: str, limit: int) -> tuple[int, str, str]:
        """(size, sha256, etag) of an object, its bytes streamed through the hash only."""
        with self._opened(bucket_key, limit) as got:
            digest, size = hashlib.sha256(), 0
            for chunk in got["Body"].iter_chunks(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest(), got["ETag"]

    def object_bytes(self, bucket_key: str, limit: int) -> bytes:
        with self._opened(bucket_key, limit) as got:
            return got["Body"].read()

    def copy_object(self, bucket_key: str, key: str, etag: str) -> None:
        """A server-side copy of the bucket's object to `key` (no bytes pass through this
        process), only if it is still the version that was read (`etag`)."""
        try:
            self.client.copy_object(Bucket=self.bucket, Key=self._key(key), CopySource={"Bucket": self.bucket, "Key": bucket_key},
                                    CopySourceIfMatch=etag)
        except Exception as exc:  # ClientError: 404 gone, 412 changed since it was read
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "412", "PreconditionFailed"):
                raise MissingObject(bucket_key) from None
            raise

    def url(self, key: str, seconds: int, filename: str | None = None, content_type: str | None = None) -> str | None:
        """A presigned GET valid `seconds`. The store answers with `content_type` shown
        inline when one is given (the caller sniffed the bytes), else as an attachment of
        octet-stream: uploaded files never render as pages."""
        safe = "".join(c for c in (filename or "file") if c.isprintable() and c not in '"\\;')[:200] or "file"
        params = {"Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": content_type or "application/octet-stream",
                  "ResponseContentDisposition": f'{"inline" if content_type else "attachment"}; filename="{safe}"'}
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=max(1, int(seconds)))


def storage_from_url(url: str, data_dir: Path):
    """`` → the data directory; `s3://bucket/prefix` → that bucket (ASSAY_S3_* settings)."""
    if not url:
        return LocalStorage(data_dir)
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"ASSAY_STORAGE_URL: {url!r} is not s3://bucket[/prefix]")
    settings = get_settings()
    return S3Storage(parts.netloc, parts.path, settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id,
                     settings.s3_secret_access_key)


@lru_cache(maxsize=4)
def _storage(url: str, data_dir: str):
    return storage_from_url(url, Path(data_dir))


def get_storage():
    settings = get_settings()
    return _storage(settings.storage_url, str(settings.data_dir))
