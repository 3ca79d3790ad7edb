"""The one exception tree. Each class is one RFC 9457 problem type.

    FusioncellError                       500 internal
    ├── InvalidInput                      422 invalid-input
    │   ├── MalformedJson                 400 malformed-json
    │   ├── UnsupportedLanguage           422 unsupported-language
    │   ├── WeakPassword                  422 weak-password
    │   ├── InvalidTotpCode               422 invalid-totp-code
    │   └── InvalidEntry                  422 invalid-entry
    │       ├── BadSignature              422 bad-signature
    │       ├── UnknownKey                422 unknown-key
    │       ├── RevokedKey                422 revoked-key
    │       ├── RejectedKey               422 rejected-key
    │       ├── BodyMismatch              422 body-mismatch
    │       ├── StalePolicy               422 stale-policy
    │       └── ClockSkew                 422 clock-skew
    ├── NotAuthenticated                  401 not-authenticated
    │   ├── InvalidCredentials            401 invalid-credentials
    │   ├── TotpRequired                  401 totp-required
    │   └── InvalidToken                  401 invalid-token
    ├── Forbidden                         403 forbidden
    │   └── CsrfFailed                    403 csrf-failed
    ├── NotFound                          404 not-found
    ├── MethodNotAllowed                  405 method-not-allowed
    ├── Conflict                          409 conflict
    │   ├── IdempotencyConflict           409 idempotency-conflict
    │   └── ReplayedEntry                 409 replayed-entry
    ├── PayloadTooLarge                   413 payload-too-large
    ├── TooManyAttempts                   429 too-many-attempts
    └── DatabaseUnavailable               503 database-unavailable

A ``type`` URI is chosen once and never changed: clients match on it. The handler in
``fusioncell.web.problems`` renders any of these as ``application/problem+json``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fusioncell.text import N_

PROBLEM_BASE = "urn:fusioncell:problem:"


class FusioncellError(Exception):
    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    title: ClassVar[str] = N_("Internal error")

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.code

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InvalidInput(FusioncellError):
    code = "invalid-input"
    status = 422
    title = N_("The request is not valid")


class MalformedJson(InvalidInput):
    code = "malformed-json"
    status = 400
    title = N_("The request body is not well-formed JSON")


class UnsupportedLanguage(InvalidInput):
    code = "unsupported-language"
    title = N_("This language is not offered")


class WeakPassword(InvalidInput):
    code = "weak-password"
    title = N_("The new password is too weak")


class InvalidTotpCode(InvalidInput):
    code = "invalid-totp-code"
    title = N_("The one-time code is not valid")


class InvalidEntry(InvalidInput):
    code = "invalid-entry"
    title = N_("The signed entry is not valid")


class BadSignature(InvalidEntry):
    code = "bad-signature"
    title = N_("The signature does not verify")


class UnknownKey(InvalidEntry):
    code = "unknown-key"
    title = N_("The signing key is not enrolled")


class RevokedKey(InvalidEntry):
    code = "revoked-key"
    title = N_("The signing key has been revoked")


class RejectedKey(InvalidEntry):
    code = "rejected-key"
    title = N_("This public key cannot be enrolled")


class BodyMismatch(InvalidEntry):
    code = "body-mismatch"
    title = N_("The body does not match its hash")


class StalePolicy(InvalidEntry):
    code = "stale-policy"
    title = N_("The entry binds a policy that is not in force")


class ClockSkew(InvalidEntry):
    code = "clock-skew"
    title = N_("The entry's time is too far from the log's clock")


class NotAuthenticated(FusioncellError):
    code = "not-authenticated"
    status = 401
    title = N_("Authentication required")


class InvalidCredentials(NotAuthenticated):
    code = "invalid-credentials"
    title = N_("Wrong username or password")


class TotpRequired(NotAuthenticated):
    code = "totp-required"
    title = N_("A valid one-time code is required")


class InvalidToken(NotAuthenticated):
    code = "invalid-token"
    title = N_("The token is unknown, expired or revoked")


class Forbidden(FusioncellError):
    code = "forbidden"
    status = 403
    title = N_("You may not do this")


class CsrfFailed(Forbidden):
    code = "csrf-failed"
    title = N_("The form's CSRF token is missing or wrong")


class NotFound(FusioncellError):
    code = "not-found"
    status = 404
    title = N_("Not found")


class MethodNotAllowed(FusioncellError):
    code = "method-not-allowed"
    status = 405
    title = N_("Method not allowed")


class Conflict(FusioncellError):
    code = "conflict"
    status = 409
    title = N_("The request conflicts with the current state")


class IdempotencyConflict(Conflict):
    code = "idempotency-conflict"
    title = N_("This id was already used for a different request")


class ReplayedEntry(Conflict):
    code = "replayed-entry"
    title = N_("This signed entry is already in the log")


class PayloadTooLarge(FusioncellError):
    code = "payload-too-large"
    status = 413
    title = N_("The request body is too large")


class TooManyAttempts(FusioncellError):
    code = "too-many-attempts"
    status = 429
    title = N_("Too many failed attempts; wait before trying again")


class DatabaseUnavailable(FusioncellError):
    code = "database-unavailable"
    status = 503
    title = N_("The database cannot be reached")
