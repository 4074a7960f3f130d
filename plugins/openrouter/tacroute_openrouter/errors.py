"""How the wrapper reports failures, so the runner classifies them like the Claude CLI's.

Every failure ends with a ``result`` line whose ``is_error`` is true. The exit
code and ``api_error_status`` carry the class, as the runner's parser
(``openrouter-stream-json``: the Claude plugin's ``claude-stream-json`` plus
the two rows marked *) reads them:

============================  ================  =========  ===================
failure                       api_error_status  exit code  runner's class
============================  ================  =========  ===================
HTTP 400, 413, 422 ...        the status        1          bad_request
HTTP 401, 403                 the status        1          auth
HTTP 402 (no credits)         402               1          auth (the key cannot
                                                           pay: fail over, do not wait)
HTTP 404                      404               1          model_not_found
HTTP 429 (after retries)      429               1          rate_limit
HTTP 408 (after retries)      408               1          timeout *
HTTP 5xx (after retries)      the status        1          overloaded
mid-stream error chunk        its code (below)  1          by that status
no data for ``--timeout`` s   null              124        timeout *
connection failed or dropped  null              1          overloaded *
bad usage (flags, no prompt)  none (no line)    2          crash (no result line)
============================  ================  =========  ===================

A mid-stream error's ``error.code`` is a number (used as is) or a string such
as ``"server_error"``; then ``error.metadata.error_type`` is mapped with
:data:`ERROR_TYPE_STATUS`, and anything else counts as 502 (the upstream
answered badly). 408, 429, 502, 503 and connection failures are retried
first (see :mod:`tacroute_openrouter.chat`), each retry announced by a
``system/api_retry`` line as the Claude CLI does.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["ERROR_TYPE_STATUS", "EXIT_ERROR", "EXIT_OK", "EXIT_TIMEOUT", "MAX_RETRY_AFTER_S",
           "RETRY_STATUSES", "ERROR_TEXT_LIMIT", "error_message", "midstream_status",
           "retry_after_seconds"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124

RETRY_STATUSES = frozenset({408, 429, 502, 503})

#: Longest part of an error body quoted in a message: cut only after the
#: secrets in it are masked (:meth:`tacroute.redact.Redactor.cut`), so a key
#: echoed near the limit is never cut into a surviving prefix.
ERROR_TEXT_LIMIT = 300

#: OpenRouter's ``error.metadata.error_type`` vocabulary -> HTTP status.
ERROR_TYPE_STATUS: Mapping[str, int] = {
    "authentication": 401, "permission_denied": 403, "payment_required": 402,
    "rate_limit_exceeded": 429, "provider_overloaded": 503, "provider_unavailable": 502,
    "invalid_request": 400, "invalid_prompt": 400, "context_length_exceeded": 400,
    "max_tokens_exceeded": 400, "token_limit_exceeded": 400, "not_found": 404,
    "payload_too_large": 413, "unprocessable": 422, "content_policy_violation": 403,
    "server": 500, "timeout": 504,
}


def error_message(body: bytes, status: int) -> str:
    """The ``error.message`` of an error body, or the body itself: whole, not cut.

    The caller masks secrets, then cuts (an upstream may echo the request's
    ``Authorization`` header anywhere in it).
    """
    try:
        data: Any = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return f"HTTP {status}: {text}" if text else f"HTTP {status}"
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return f"HTTP {status}: {err['message']}"
    if isinstance(err, str):
        return f"HTTP {status}: {err}"
    return f"HTTP {status}: {json.dumps(data)}"


def midstream_status(error: Mapping[str, Any]) -> int:
    """The status to report for a mid-stream ``error`` object."""
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return code
    status = error.get("http_status")
    if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599:
        return status
    meta = error.get("metadata")
    kind = meta.get("error_type") if isinstance(meta, Mapping) else error.get("error_type")
    if isinstance(kind, str) and kind in ERROR_TYPE_STATUS:
        return ERROR_TYPE_STATUS[kind]
    return 502


#: Longest ``Retry-After`` taken from a server (a day). The runner bounds every
#: outcome again (``tacroute.bounds``; not imported here: the wrapper starts light).
MAX_RETRY_AFTER_S = 86_400.0


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds in ``[0, MAX_RETRY_AFTER_S]``: a number, or an HTTP date.

    None when absent or unreadable (``nan`` included); a negative value is 0, a
    huge one or ``inf`` is :data:`MAX_RETRY_AFTER_S`, so a hostile header can
    neither crash the wrapper nor park a model for years.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = when.timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
