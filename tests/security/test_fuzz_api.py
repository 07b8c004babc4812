"""Fuzzing the JSON API from its own OpenAPI document (issue 7): schemathesis generates requests for
every operation of /api/v1/openapi.json (core and every installed plugin) and sends them to the app
in-process (WSGI, no server) with bearer tokens of a staff administrator (valid and invalid
requests), a resident and a mediator (the mediation routes).

Every answer must be below 500 and match the document (status, content type, the error schema).
Path parameters are pinned to real objects of the test community (from the access-matrix
declarations), so the generated bodies and queries reach the handlers instead of a 404. The run is
bounded and derandomized: the same requests every time, well under a minute."""
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from tests.conftest import INSTALLED
from tests.security import matrix as m
from tests.security.figures import add

# (user, valid or invalid requests, examples per operation): ~115 operations × 6
RUNS = [("admin", GenerationMode.POSITIVE, 2), ("admin", GenerationMode.NEGATIVE, 2),
        ("resident", GenerationMode.POSITIVE, 2), ("mediator", GenerationMode.POSITIVE, 2)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def pinned_values(world):
    from tests.security.access_core import url_args

    values = {"community": world.community.slug, **url_args(world)}
    for who in INSTALLED:
        decl = m.load_declarations(who)
        if decl and decl[1]:
            values.update(decl[1](world) or {})
    return values


@pytest.mark.plugins(*INSTALLED)
@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": False, "PROPAGATE_EXCEPTIONS": False}])
def test_fuzzed_api_requests_never_fail_with_5xx_and_match_the_openapi_document(app, world):
    from core.services import tokens

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert len(doc["paths"]) > 50
    assert [p for p in doc["paths"] if "<" in p or ">" in p] == []  # every path parameter is a {template}
    values = pinned_values(world)
    schema = schemathesis.openapi.from_dict(doc)
    schema.app = app
    users = {who: tokens.create(getattr(world, who), "fuzz")[1] for who in ("admin", "resident", "mediator")}
    from core.extensions import db

    db.session.commit()  # the set-up, as its entry point would (services never commit)
    sent, problems, statuses = [0], [], {}

    def run(operation, who, mode, examples):
        pinned = {p.name: values[p.name] for p in operation.path_parameters if p.name in values}

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                  print_blob=False)
        @given(case=operation.as_strategy(mode, path_parameters=pinned))
        def fuzz(case):
            # the document's bearer scheme makes the generator send made-up tokens: send the real one
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {users[who]}"}
            with app.app_context():  # each request in its own context, as in production (g is not shared)
                response = case.call()
            sent[0] += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as err:  # collect every operation's problem, then report them together
                problems.append(f"{who} {mode.value} {operation.label}: {case.as_curl_command()[:400]}\n"
                                f"{str(err)[:600]}")
                raise

        before = len(problems)
        try:
            fuzz()
        except Unsatisfiable:  # nothing to make invalid: no body or query and the path is pinned
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as err:
            if len(problems) == before:  # not a failed check: the generation itself went wrong
                problems.append(f"{who} {mode.value} {operation.label}: {err!r}"[:800])

    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) > 80
    for operation in operations:
        for who, mode, examples in RUNS:
            if who != "mediator" or "/mediation/" in operation.path:  # cases are shown to their mediators only
                run(operation, who, mode, examples)
    add("fuzzed API requests", sent[0])
    assert sent[0] >= len(operations) * (len(RUNS) - 1), sent[0]
    assert not problems, "\n\n".join(problems)
    # the requests reached the handlers: some were carried out, some refused as invalid
    assert statuses.get(200, 0) + statuses.get(201, 0) > 100 and statuses.get(400, 0) > 50, statuses


def _operations(doc, methods):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in methods:
                yield path, method, op


def _fill(path, values, op):
    """``path`` with its parameters pinned: a real object's id, or an enum's first value."""
    enums = {p["name"]: p["schema"]["enum"][0] for p in op.get("parameters", []) if "enum" in p["schema"]}
    for name, value in {**enums, **values}.items():
        path = path.replace("{" + name + "}", str(value))
    return path


@pytest.mark.plugins(*INSTALLED)
@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": False, "PROPAGATE_EXCEPTIONS": False}])
def test_every_api_body_nested_too_deep_or_with_a_lone_surrogate_is_refused_and_stores_nothing(app, world):
    """Issue 16, item 11: a deeply nested body answered 500 on 71 routes and a lone surrogate
    ("\\ud800" in a JSON string) on 25. Every route that takes a body, as a staff administrator with
    every path parameter pinned to a real object: 400 ``too_deep`` or ``invalid_text``, and not one
    row changed. Every declared query parameter with a control character: 400 ``invalid_text``."""
    from core.services import tokens
    from tests.security.test_attacks import fingerprint

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    values = pinned_values(world)
    headers = {"Authorization": f"Bearer {tokens.create(world.admin, 'fuzz')[1]}", "Content-Type": "application/json"}
    client = app.test_client()
    before, sent, problems = fingerprint(), 0, []

    def expect(method, url, body, code):
        nonlocal sent
        r = client.open(url, method=method.upper(), data=body, headers=headers)
        sent += 1
        got = (r.get_json(silent=True) or {}).get("error", {}).get("code")
        if r.status_code != 400 or got != code:
            problems.append(f"{method.upper()} {url} {body[:60]!r}: {r.status_code} {got}")

    with_body = list(_operations(doc, ("post", "put", "patch", "delete")))
    assert len([op for _p, _m, op in with_body if "requestBody" in op]) > 60
    for path, method, op in with_body:
        url = _fill(path, values, op)
        props = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get(
            "properties", {})
        strings = [n for n, s in props.items() if "string" in s["type"]] or ["note"]
        for depth in (21, 100_000):
            expect(method, url, '{"x": ' + "[" * depth + "]" * depth + "}", "too_deep")
        expect(method, url, "{" + ", ".join(f'"{n}": "a\\ud800"' for n in strings) + "}", "invalid_text")
        expect(method, url, json.dumps({"note\ud800": 1}), "invalid_text")
        expect(method, url, json.dumps({n: "a\udc00" for n in props} | {"x": [{"y": "\udfff"}]}), "invalid_text")
    for path, method, op in _operations(doc, ("get",)):
        for param in op.get("parameters", []):
            if param["in"] == "query":
                r = client.get(_fill(path, values, op), query_string={param["name"]: "a\x1bb"}, headers=headers)
                sent += 1
                if r.status_code != 400 or r.get_json()["error"]["code"] != "invalid_text":
                    problems.append(f"GET {path}?{param['name']}: {r.status_code}")
    add("fuzzed API requests", sent)
    assert not problems, "\n".join(problems)
    assert fingerprint() == before
