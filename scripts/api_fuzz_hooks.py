"""Schemathesis hooks for scripts/api-fuzz: the admin API's rules that an OpenAPI
document cannot state in JSON Schema, each also written in the document's
descriptions and covered by a Swift test. A "schema-valid request rejected" finding
is dropped only when the answer is exactly the documented refusal; every other
finding fails the run.
"""

import os
import sys

import schemathesis

# OCPP_API_FUZZ_DEBUG=1: each dropped finding on stderr, with its reason.
_DEBUG = os.environ.get("OCPP_API_FUZZ_DEBUG") == "1"


def _drop(reason, case):
    if _DEBUG:
        print(f"api_fuzz_hooks: dropped ({reason}): {case.operation.label}", file=sys.stderr)
    return False


def _error(response):
    try:
        body = response.json()
    except Exception:
        return {}
    return body if isinstance(body, dict) else {}


ENQUEUE = "POST /api/v1/stations/{identity}/commands"
LATEST = "9999-12-31T23:59:59Z"


@schemathesis.hook
def map_case(context, case):
    """Most generated times are in the past, and a command that expires before it may
    be sent is refused before its payload is looked at: a valid request's expiresAt is
    moved to the latest time RFC 3339 writes, so the payloads get tested."""
    meta = getattr(case, "meta", None)
    if (
        case.operation.label == ENQUEUE
        and meta is not None
        and meta.generation.mode.is_positive
        and isinstance(case.body, dict)
        and isinstance(case.body.get("expiresAt"), str)
        and case.body.get("notBefore") != LATEST
    ):
        case.body = {**case.body, "expiresAt": LATEST}
    return case


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    error = _error(response)
    # `after` is an opaque cursor: a string no page of the list returned as `next`
    # (whatever its shape) is refused with 400, as the `after` parameter says.
    if response.status_code == 400 and error.get("field") == "after":
        return _drop("after", case)
    # A command's expiresAt must be later than its notBefore (or than now, without one):
    # one member compared with another, which JSON Schema cannot say.
    if response.status_code == 400 and error.get("field") == "expiresAt" and "later than" in error.get("message", ""):
        return _drop("expiresAt", case)
    # OCPP 1.6's schemas are draft-04, where 5.0 is a number and not an integer, so a
    # payload integer written with a fraction is refused (422) as a station would
    # refuse it; JSON Schema 2020-12, the document's dialect, calls 5.0 an integer.
    if (
        response.status_code == 422
        and error.get("error") == "invalid_payload"
        and "expected integer, found number" in error.get("message", "")
    ):
        return _drop("integer with a fraction", case)
    return True
