"""Settings, read once from the environment.

Every variable is named ``FUSIONCELL_*``; the README lists them. Settings are a frozen
dataclass so a running app cannot drift from what it was started with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("var") / "fusioncell.db"


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"fusioncell: {name} must be a whole number, not {raw!r}") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    # Cookies get the Secure flag when the request came over HTTPS; this forces it on
    # for deployments behind a TLS-terminating proxy that does not forward the scheme.
    force_secure_cookies: bool = False
    max_body_bytes: int = 1_048_576
    token_ttl_seconds: int = 3600
    session_ttl_seconds: int = 8 * 3600
    login_backoff_threshold: int = 3
    login_backoff_base_seconds: int = 1
    login_backoff_max_seconds: int = 900
    # Failed logins reach the log in aggregate: at most one ``cell.login.throttled`` summary
    # per window, naming the usernames with the most failures (and counting all of them).
    login_report_window_seconds: int = 60
    login_report_top: int = 20
    # Argon2id parameters. The default follows RFC 9106's second recommended option;
    # "fast-insecure" exists only so the test suite does not spend minutes hashing.
    password_hash_profile: str = "rfc9106-low-memory"
    default_language: str = "en"
    # Where the log's signing key and the custody key live (files, mode 0600).
    key_dir: Path = Path("var") / "keys"
    deployment: str = "local"
    cell: str = "cell"
    # Witnesses the log pushes checkpoints to: "<verifier key> <url>" entries, ";"-separated.
    witnesses: str = ""
    # How many witness cosignatures a checkpoint needs to count; None means all of them.
    witness_quorum: int | None = None
    # Sign checkpoints in a background thread; the test suite signs them explicitly instead.
    background_checkpoints: bool = True
    # Run the workers that only save time later (``Worker.warm_up``, e.g. importing STIX
    # validation before the first envelope); the test suite's many short-lived servers skip them.
    warm_up: bool = True
    # The hotline's deadlines and escalation ladder (TOML); default: the one shipped.
    hotline_policy: Path = field(
        default_factory=lambda: Path(__file__).parent / "hotline" / "rules.toml"
    )

    @property
    def log_origin(self) -> str:
        return f"fusioncell.{self.deployment}/{self.cell}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        settings = cls(
            database_url=os.environ.get("FUSIONCELL_DATABASE_URL") or default_database_url(),
            force_secure_cookies=_env_bool("FUSIONCELL_SECURE_COOKIES", False),
            max_body_bytes=_env_int("FUSIONCELL_MAX_BODY_BYTES", 1_048_576),
            token_ttl_seconds=_env_int("FUSIONCELL_TOKEN_TTL_SECONDS", 3600),
            session_ttl_seconds=_env_int("FUSIONCELL_SESSION_TTL_SECONDS", 8 * 3600),
            login_backoff_threshold=_env_int("FUSIONCELL_LOGIN_BACKOFF_THRESHOLD", 3),
            login_report_window_seconds=_env_int("FUSIONCELL_LOGIN_REPORT_WINDOW_SECONDS", 60),
            login_report_top=_env_int("FUSIONCELL_LOGIN_REPORT_TOP", 20),
            password_hash_profile=os.environ.get(
                "FUSIONCELL_PASSWORD_HASH_PROFILE", "rfc9106-low-memory"
            ),
            default_language=os.environ.get("FUSIONCELL_DEFAULT_LANGUAGE", "en"),
            key_dir=Path(os.environ.get("FUSIONCELL_KEY_DIR") or Path("var") / "keys"),
            deployment=os.environ.get("FUSIONCELL_DEPLOYMENT", "local"),
            cell=os.environ.get("FUSIONCELL_CELL", "cell"),
            witnesses=os.environ.get("FUSIONCELL_WITNESSES", ""),
            witness_quorum=_env_int("FUSIONCELL_WITNESS_QUORUM", -1),
            warm_up=_env_bool("FUSIONCELL_WARM_UP", True),
        )
        if os.environ.get("FUSIONCELL_HOTLINE_POLICY"):
            settings = replace(
                settings, hotline_policy=Path(os.environ["FUSIONCELL_HOTLINE_POLICY"])
            )
        if settings.witness_quorum == -1:
            settings = replace(settings, witness_quorum=None)
        return replace(settings, **overrides)  # type: ignore[arg-type]
