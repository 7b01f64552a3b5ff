"""Handoff's own checks for a schemathesis run, beyond the schema:

- policy_holds: no answer to the caller's token holds a field outside
  what the data-sharing policy grants its agency for that view;
- instants_are_rfc3339: every instant is RFC 3339 UTC with milliseconds,
  never a number (the schema says `date-time`, which alone does not make
  a validator reject a number where `null` is allowed).

The run's agency and policy come from HANDOFF_AGENCY (ICE, HHS_ORR,
DOJ_EOIR) and HANDOFF_POLICY (the policy file the stack runs with).
Loaded through SCHEMATHESIS_HOOKS=api_checks.
"""

import os
import re
import tomllib

import schemathesis

AGENCY = os.environ["HANDOFF_AGENCY"]
with open(os.environ["HANDOFF_POLICY"], "rb") as f:
    GRANTS = tomllib.load(f)["agencies"].get(AGENCY, {})

VIEWS = {
    "/v1/children/{a_number}": "child",
    "/v1/views/ice": "ice",
    "/v1/views/hhs_orr": "hhs_orr",
    "/v1/views/doj_eoir": "doj_eoir",
    "/v1/fta": "fta",
    "/v1/nta-backlog": "nta_backlog",
    "/v1/hearings/upcoming": "hearings_upcoming",
    "/v1/data-quality": "data_quality",
}

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Keys that hold an instant (besides every `*_at`), or a list of them.
INSTANT_KEYS = {"at", "as_of", "due"}
INSTANT_LISTS = {"opla_only_ftas", "earlier_ftas"}


def json_body(response):
    if response.status_code >= 300:
        return None
    if "json" not in response.headers.get("content-type", [""])[0]:
        return None
    return response.json()


@schemathesis.check
def policy_holds(ctx, response, case):
    view = VIEWS.get(case.operation.path)
    body = json_body(response)
    if view is None or body is None:
        return
    granted = set(GRANTS.get(view, {}).get("fields", []))
    if view == "child":
        records = [body["child"]]
    else:
        # Without `kind`, /v1/data-quality answers counts, no child data.
        records = body.get("items", [])
    for record in records:
        extra = sorted(set(record) - granted)
        if extra:
            raise AssertionError(
                f"{AGENCY} was sent {extra} of `{view}`, which the policy does not grant it"
            )


def instants(value, path="$"):
    """Every (path, value) that should be an instant."""
    if isinstance(value, dict):
        for key, v in value.items():
            here = f"{path}.{key}"
            if key.endswith("_at") or key in INSTANT_KEYS:
                yield here, v
            elif key in INSTANT_LISTS and isinstance(v, list):
                yield from ((f"{here}[{i}]", x) for i, x in enumerate(v))
            else:
                yield from instants(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from instants(v, f"{path}[{i}]")


@schemathesis.check
def instants_are_rfc3339(ctx, response, case):
    body = json_body(response)
    if body is None:
        return
    for where, value in instants(body):
        if value is not None and not (isinstance(value, str) and INSTANT.match(value)):
            raise AssertionError(
                f"{where} is {value!r}, not an RFC 3339 UTC time with milliseconds"
            )
