"""Every failure becomes one RFC 9457 problem document; clients branch on the `type` slug.

Domain code raises `AppError` subclasses (never HTTP exceptions); this module is the only
place that knows how a failure looks on the wire, including PostgreSQL's SQLSTATEs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from bartender.observe.logging import REQUEST_ID
from bartender.observe.metrics import CONFLICTS, LOCK_WAITS, UNAVAILABLE

log = logging.getLogger("bartender.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A failure the client can act on: a stable `type` slug, an HTTP status, extra members."""

    slug = "internal_error"
    status = 500
    title = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra


class InvalidRequest(AppError):
    slug, status, title = "invalid_request", 400, "Invalid request"

    def __init__(self, errors: list[dict[str, str]], detail: str | None = None) -> None:
        super().__init__(
            detail or "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors
        )


class Unauthenticated(AppError):
    slug, status, title = "unauthenticated", 401, "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class InvalidCredentials(AppError):
    slug, status, title = "invalid_credentials", 401, "Wrong email or password"


class Forbidden(AppError):
    slug, status, title = "forbidden", 403, "Not allowed"


class NotFound(AppError):
    slug, status, title = "not_found", 404, "Not found"


class MethodNotAllowed(AppError):
    slug, status, title = "method_not_allowed", 405, "Method not allowed"


class Conflict(AppError):
    slug, status, title = "conflict", 409, "Conflict"


class EmailTaken(AppError):
    slug, status, title = "email_taken", 409, "Email already registered"


class AlreadyMember(AppError):
    slug, status, title = "already_member", 409, "Already a member of this bar"


class InsufficientStock(AppError):
    slug, status, title = "insufficient_stock", 409, "Not enough stock"


class NotReturnable(AppError):
    slug, status, title = "not_returnable", 409, "Cannot be returned"


class IdempotencyConflict(AppError):
    slug, status, title = "idempotency_conflict", 409, "Operation id already used differently"


class DuplicateDelivery(AppError):
    slug, status, title = "duplicate_delivery", 409, "Delivery reference already recorded"


class PayloadTooLarge(AppError):
    slug, status, title = "payload_too_large", 413, "Request body too large"


class UnsupportedMediaType(AppError):
    slug, status, title = "unsupported_media_type", 415, "Unsupported media type"


class TooManyAttempts(AppError):
    slug, status, title = "too_many_attempts", 429, "Too many attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many failed attempts; retry in {retry_after_s} s.",
            headers={"Retry-After": str(retry_after_s)},
        )


class Busy(AppError):
    slug, status, title = "busy", 503, "Busy, retry shortly"

    def __init__(
        self, detail: str | None = None, retry_after_s: int = 1, reason: str = "busy"
    ) -> None:
        super().__init__(
            detail or "The stock is busy; retry shortly.",
            headers={"Retry-After": str(retry_after_s)},
        )
        # why (metrics label, not on the wire): lock_timeout, pool_timeout, admission, ...
        self.reason = reason


class Unavailable(AppError):
    slug, status, title = "unavailable", 503, "Service unavailable"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "2"})


# SQLSTATEs raised by our plpgsql functions (migrations/functions/*.sql) with a JSON DETAIL.
_SQLSTATE_ERRORS: dict[str, type[AppError]] = {
    "BTI01": InsufficientStock,
    "BTC01": IdempotencyConflict,
    "BTD01": DuplicateDelivery,
    "BTN01": NotFound,
    "BTF01": Forbidden,
    "BTR01": NotReturnable,  # issue 16: voided sale, more than is left to return, decided
}


def from_postgres(exc: asyncpg.PostgresError) -> AppError:
    """Map a PostgreSQL error to the domain error it stands for (one place for all SQLSTATEs)."""
    state = exc.sqlstate
    extra: dict[str, Any] = {}
    detail = getattr(exc, "detail", None)
    if detail and state and state.startswith("BT"):
        try:
            extra = msgspec.json.decode(detail)
        except msgspec.DecodeError:
            extra = {}
    message = getattr(exc, "message", None) or str(exc)
    if state == "BTV01":
        return InvalidRequest(extra.get("errors", [{"field": "", "message": message}]))
    if state in _SQLSTATE_ERRORS:
        return _SQLSTATE_ERRORS[state](message, **extra)
    if state == "55P03":  # lock_not_available: lock_timeout expired
        return Busy("Another sale holds these products; retry shortly.", reason="lock_timeout")
    if state in ("57014", "40001", "40P01"):  # statement timeout, serialization, deadlock
        return Busy(reason="statement_timeout" if state == "57014" else "serialization")
    if state == "23505":  # unique_violation that escaped a specific check
        return Conflict("This record already exists.")
    if state in ("22P02", "22003", "23514", "22008", "22007"):
        return InvalidRequest([{"field": "", "message": "value out of range or malformed"}])
    # connection exceptions, too many connections, shutdown or restart, database gone
    if state and (state.startswith(("08", "57P", "53")) or state == "3D000"):
        return Unavailable("The database is not reachable right now.")
    return AppError()


_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")
_MSGSPEC_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors = field_errors(exc.extra if isinstance(exc.extra, list) else [])
    if not errors:
        errors.append({"field": "", "message": exc.detail or "invalid request"})
    return errors


def field_errors(items: list[Any]) -> list[dict[str, str]]:
    """Turn Litestar/msgspec validation output into `[{"field": "items[0].qty", "message"}]`."""
    errors: list[dict[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        raw = str(item.get("message", ""))
        match = _MSGSPEC_PATH.match(raw)
        message, path = (match["msg"], match["path"]) if match else (raw, None)
        if path is None:
            key = item.get("key")
            path = "" if key is None else str(key)
        else:
            path = path.lstrip(".")
        named = _NAMED_FIELD.search(message)
        if named:  # "Object missing required field `id`" names the field itself
            path = f"{path}.{named[1]}" if path and path != "data" else named[1]
        if path == "data":
            path = ""
        source = item.get("source")
        if source in ("query", "path") and item.get("key"):
            path = str(item["key"])
        errors.append({"field": path, "message": message or "invalid value"})
    return errors


def problem_body(error: AppError) -> bytes:
    """The problem document's bytes (with the request's id); counts 409s and 503s."""
    body: dict[str, Any] = {
        "type": error.slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    for key, value in error.extra.items():
        body.setdefault(key, value)
    request_id = REQUEST_ID.get()
    if request_id is not None:
        body["request_id"] = request_id
    if error.status == 409:
        CONFLICTS.labels(error.slug).inc()
    elif error.status == 503:
        reason = getattr(error, "reason", error.slug)
        UNAVAILABLE.labels(error.slug, reason).inc()
        if reason == "lock_timeout":
            LOCK_WAITS.inc()
    return msgspec.json.encode(body)


def problem_response(error: AppError) -> Response[bytes]:
    return Response(
        content=problem_body(error),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def to_app_error(exc: Exception) -> AppError:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        mapped = from_postgres(exc)
        if type(mapped) is AppError:
            log.error("unmapped database error", exc_info=exc)
        return mapped
    if isinstance(exc, ValidationException):
        return InvalidRequest(_field_errors(exc))
    if isinstance(exc, NotAuthorizedException):
        return Unauthenticated()
    if isinstance(exc, PermissionDeniedException):
        return Forbidden()
    if isinstance(exc, NotFoundException):
        return NotFound()
    if isinstance(exc, HTTPException):
        if exc.status_code == 405:
            return MethodNotAllowed()
        if exc.status_code == 413:
            return PayloadTooLarge()
        if exc.status_code == 400:
            return InvalidRequest([{"field": "", "message": exc.detail or "bad request"}])
        err = AppError(exc.detail)
        err.status = exc.status_code
        err.slug = {401: "unauthenticated", 403: "forbidden", 429: "too_many_attempts"}.get(
            exc.status_code, "http_error"
        )
        err.title = exc.detail or "HTTP error"
        return err
    if isinstance(exc, asyncpg.InterfaceError) and isinstance(exc, ValueError):
        # asyncpg's client-side DataError: an argument it cannot encode (e.g. past bigint)
        return InvalidRequest([{"field": "", "message": "value out of range or malformed"}])
    # a connection lost mid-query surfaces as InterfaceError or InternalClientError
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.InternalClientError):
        log.error("database unreachable", exc_info=exc)
        return Unavailable("The database is not reachable right now.")
    log.error("unhandled error", exc_info=exc)
    return AppError("Something went wrong on our side; it has been logged.")


def problem_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return problem_response(to_app_error(exc))


EXCEPTION_HANDLERS = {Exception: problem_handler}
