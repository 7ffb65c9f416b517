"""Checks every HTTP request passes before its handler runs, whatever the endpoint.

Litestar converts bodies and query parameters leniently (`"500"` becomes 500), lets any
content type through as JSON, and answers 500 on input msgspec cannot represent or
PostgreSQL cannot store. Doing these checks once here, from each handler's own signature,
covers every endpoint, including the ones added later:

- a JSON body needs `Content-Type: application/json` (415 otherwise): a cross-site form can
  only send text/plain, urlencoded or multipart, so it cannot reach the login (login CSRF);
- the body decodes strictly against the handler's `data` type: `"qty": "1"` is 400 naming
  `qty`; JSON nested deeper than the decoder's recursion limit is 400, not a RecursionError;
- no string anywhere in the body holds NUL (PostgreSQL text cannot): 400 naming the field;
- an integer query parameter outside PostgreSQL's bigint is 400 naming the parameter.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.params import ParameterKwarg

from bartender.errors import InvalidRequest, UnsupportedMediaType, field_errors

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(r"[+-]?\d+")
# Names Litestar fills from the connection itself, never from the query string.
_RESERVED = frozenset({"data", "request", "state", "scope", "headers", "cookies", "query", "body"})


_OPT_KEY = "bartender.edge"


@dataclass(frozen=True, slots=True)
class _Spec:
    """What the edge checks for one handler (computed once from its signature)."""

    body_type: Any  # the `data` parameter's type, or None when the handler takes no body
    int_params: tuple[str, ...]  # query parameter names (as sent) declared as integers


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(arg is int for arg in typing.get_args(annotation))
    return False


def _spec(handler: HTTPRouteHandler) -> _Spec:
    # Kept on the handler itself, in its `opt` dict: a module-level cache keyed by id() hands
    # a new handler another's spec once an app (as tests build and drop) is collected, and
    # handlers have __slots__ without __weakref__ (no WeakKeyDictionary).
    spec: _Spec | None = handler.opt.get(_OPT_KEY)
    if spec is None:
        params = handler.parsed_fn_signature.parameters
        dependencies = handler.resolve_dependencies()
        data = params.get("data")
        ints = []
        for name, field in params.items():
            if name in _RESERVED or name in dependencies or not _is_int(field.annotation):
                continue
            kwarg = field.kwarg_definition
            if isinstance(kwarg, ParameterKwarg):
                if kwarg.header or kwarg.cookie:
                    continue
                name = kwarg.query or name
            ints.append(name)
        spec = _Spec(data.annotation if data is not None else None, tuple(ints))
        handler.opt[_OPT_KEY] = spec
    return spec


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest([{"field": field, "message": message}])


def _check_query(request: Request[Any, Any, Any], names: tuple[str, ...]) -> None:
    for name in names:
        for value in request.query_params.getall(name, ()):
            raw = value.strip()
            if _INTEGER.fullmatch(raw) and not BIGINT_MIN <= int(raw) <= BIGINT_MAX:
                raise _invalid(name, "integer out of range (64-bit)")


def _nul_path(value: Any, path: str = "") -> str | None:
    """The path (`items[0].reason`) of the first string holding NUL, or None."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, inner in item.items():
                inner_path = f"{where}.{key}" if where else str(key)
                if "\x00" in key:
                    return inner_path
                stack.append((inner, inner_path))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]") for i, inner in enumerate(item))
    return None


def check_body(body: bytes, body_type: Any) -> None:
    """Strict decode of a JSON body against `body_type`; raises InvalidRequest (400)."""
    try:
        msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        # the same field naming as Litestar's own validation errors (errors.py)
        raise InvalidRequest(field_errors([{"message": str(exc)}])) from None
    except msgspec.DecodeError as exc:
        raise _invalid("", f"malformed JSON: {exc}") from None
    except RecursionError:
        raise _invalid("", "JSON nested too deeply") from None
    # JSON escapes NUL as \u0000: only bodies holding that text need the full walk
    if b"\\u0000" in body:
        where = _nul_path(msgspec.json.decode(body))
        if where is not None:
            raise _invalid(where, "must not contain the NUL character")


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Litestar `before_request` hook: raises an AppError (4xx) or lets the handler run."""
    spec = _spec(request.route_handler)
    if spec.int_params:
        _check_query(request, spec.int_params)
    if spec.body_type is None:
        return
    body = await request.body()
    if not body:
        return  # Litestar answers a missing required body itself (400)
    media_type = request.content_type[0].lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"This endpoint takes Content-Type: application/json, not {media_type or 'none'!r}."
        )
    check_body(body, spec.body_type)
