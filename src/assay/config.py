"""Settings. Every setting is read from an ``ASSAY_``-prefixed environment variable.

docs/settings.md documents each one; tests/test_docs.py fails when a setting here is
missing from that page.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path

from limits import parse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSAY_", extra="ignore")

    data_dir: Path = Field(Path("./assay-data"), description="Where the SQLite database, uploaded files and the secret key live.")
    database_url: str = Field("", description="SQLAlchemy URL. Empty means SQLite in the data directory; postgresql+psycopg://… for PostgreSQL.")
    secret_key: str = Field("", description="Signs attachment URLs. Empty means a random key kept in DATA_DIR/secret_key.")
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL clients use to reach this server; used in signed attachment URLs. With https, session cookies are marked Secure.")
    files_origin: str = Field(
        "",
        description="Base URL of a separate origin (e.g. https://files.example.com) that serves uploaded files, so they never share the app's origin. Empty: signed links use PUBLIC_URL.",
    )
    storage_url: str = Field("", description="Where uploaded files and export files are kept: empty for the data directory; s3://bucket/prefix for an S3-compatible object store (then the data directory is only each machine's cache).")
    s3_endpoint_url: str = Field("", description="The S3 endpoint (https://s3.eu-west-1.amazonaws.com, http://seaweedfs:8333, …); empty: AWS's default for the region.")
    s3_region: str = Field("us-east-1", description="The S3 region the requests are signed for.")
    s3_access_key_id: str = Field("", description="S3 access key id; empty: boto3's usual chain (environment, instance role, ~/.aws).")
    s3_secret_access_key: str = Field("", description="S3 secret access key (with S3_ACCESS_KEY_ID).")
    bucket_import_prefix: str = Field(
        "imports/{org}/",
        description="Where in the storage bucket (ASSAY_STORAGE_URL) tasks may be imported from (`POST /api/projects/{id}/imports/bucket`, `assay import --from-bucket`): a key prefix, `{org}` standing for the importing organization's id, so that each organization reads only its own folder (default `imports/{org}/`). Set it empty to let every organization read any key of that bucket outside this server's own files, exports and media (one organization per server). No other bucket is ever read.",
    )
    presign_seconds: int = Field(300, ge=1, le=604800, description="How long a presigned object-store link stays valid (at most the app's own signed link's remaining time).")
    max_upload_bytes: int = Field(100 * 1024 * 1024, description="Largest accepted file upload or import, in bytes.")
    max_request_bytes: int = Field(50 * 1024 * 1024, description="Largest accepted JSON request body, in bytes.")
    allowed_private_networks: str = Field(
        "",
        description="Comma-separated CIDRs (e.g. 127.0.0.0/8,10.0.0.0/8) that server-side fetches and callbacks may reach although they are private or loopback. Empty refuses them all.",
    )
    callback_max_attempts: int = Field(20, ge=1, description="Delivery attempts per callback before it is given up.")
    callback_retry_window_seconds: float = Field(86400.0, gt=0, description="Time over which the attempts are spread (exponential backoff scaled to fit).")
    callback_timeout_seconds: float = Field(
        10.0, gt=0,
        description="Deadline of one delivery attempt (callback POST or attachment check): resolving the host, connecting, sending and reading the status line and headers must all finish within it, however slowly the receiver trickles bytes; otherwise the attempt fails and is retried.",
    )
    callback_per_destination: int = Field(
        4, ge=1,
        description="Deliveries (callbacks and attachment checks) one worker process runs at once against one destination (scheme, host and port); further rows for it wait unclaimed, so a slow receiver holds only its own slots.",
    )
    callback_concurrency: int = Field(64, ge=1, description="Deliveries one worker process runs at once in all.")
    worker_in_process: bool = Field(True, description="Run the outbox delivery loop and the background jobs inside `assay serve`. Set false when separate `assay worker` processes run them.")
    worker_poll_seconds: float = Field(0.5, gt=0, description="How often an idle worker looks for due outbox rows.")
    check_attachments: bool = Field(True, description="Check that http(s) task attachments are downloadable; a task whose attachment is not gets status error.")
    attachment_check_retry_seconds: float = Field(
        2.0, gt=0,
        description="Wait before the first retry of an attachment that could not be downloaded; the second (last) retry waits five times as long.",
    )
    session_hours: float = Field(12.0, gt=0, description="How long a browser login lasts.")
    auth_cache_seconds: float = Field(
        5.0, ge=0, le=300,
        description="How long a process keeps who an API key or a browser session belongs to before it reads the database again. A revoked key, a logout, a password change or a deactivation applies at once in the process that made it and within this many seconds in the others (other app processes, `assay users` from the CLI). 0 reads the database on every request.",
    )
    password_hash_cost: int = Field(
        14, ge=10, le=16,
        description="log2 of scrypt's work factor N for new password hashes (14: 16 MiB and ~40 ms of CPU per hash or sign-in; each step up doubles both). Each hash keeps the cost it was made with, so changing it leaves existing passwords working. Lower it only for a test suite, where thousands of sign-ins pay it.",
    )
    login_account_limit: str = Field(
        "10/15 minutes",
        description="Failed sign-ins allowed per account (per e-mail address, known or not) in a moving window, in the `limits` notation (`N/minute`, `N/15 minutes`, `N/hour`). Past it, sign-in is refused with 429, even with the right password, until the window lets one through.",
    )
    login_address_limit: str = Field(
        "30/minute",
        description="Sign-in attempts (right or wrong) allowed per client address in a moving window, same notation; past it 429.",
    )
    lease_seconds: float = Field(600.0, gt=0, description="How long a labeler holds a task slot without a heartbeat from the page; an expired lease returns the slot to the queue. A submission stays editable (\"go back\") for this long too.")
    heartbeat_seconds: float = Field(30.0, gt=0, description="How often an open labeling page renews its lease.")
    idle_after_seconds: float = Field(30.0, gt=0, description="Active time on task stops counting after this many seconds without a key press, click, scroll or mouse move.")
    exposure_budget: int = Field(100, ge=0, description="Daily budget of tasks with a content warning one person is served; past it the queue serves them only unflagged work until the next day (UTC). A lead can set a person's own budget.")
    break_after_minutes: float = Field(50.0, ge=0, description="The workbench suggests a break after this many minutes of continuous work (0: never).")
    jobs_poll_seconds: float = Field(2.0, gt=0, description="How often the background jobs (truth-model refits, model training and predictions, queued export jobs, folding the counter shards) look for work, in `assay serve` (with WORKER_IN_PROCESS) or `assay worker`.")
    truth_refit_labels: int = Field(50, ge=1, description="A project with a named truth-inference method (dawid_skene, one_coin_dawid_skene, glad, bayesian_dawid_skene, community_dawid_skene, mace) or auto is refitted once it has this many new labels, or a tenth of the labels of its last fit when that is more, and no sooner than 20 times that fit's length after it (auto: its first fit too waits for them); tasks in between are scored with the last fit.")
    demo: bool = Field(True, description="Create the demo organization with sample projects and tasks on first start.")
    log_level: str = Field("info", description="Log level of the server and worker.")

    @field_validator("login_account_limit", "login_address_limit")
    @classmethod
    def _check_limit(cls, value: str, info) -> str:
        try:
            item = parse(value)
        except ValueError as exc:
            raise ValueError(f"ASSAY_{info.field_name.upper()}: {value!r} is not a rate limit like '10/15 minutes' ({exc})") from None
        if item.amount < 1:
            raise ValueError(f"ASSAY_{info.field_name.upper()}: must allow at least one attempt")
        return value

    @field_validator("allowed_private_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        for part in _split(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"ASSAY_ALLOWED_PRIVATE_NETWORKS: {part!r} is not an IP network ({exc})") from None
        return value

    @property
    def private_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p, strict=False) for p in _split(self.allowed_private_networks)]

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'assay.db').resolve()}"

    @property
    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return _secret_key_file(str(self.data_dir))


@lru_cache(maxsize=8)
def _secret_key_file(data_dir: str) -> str:
    """The key kept in DATA_DIR/secret_key (created on first use). Read once per process:
    every session cookie and signed link needs it."""
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
