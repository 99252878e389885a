"""Issue #16 item 6: schemathesis against our own OpenAPI schema (/api/v1/schema/), for every operation,
with the access world's data and a token of each kind (bureau administrator, case worker, auditor,
employer user, and a 机构接口账号). Bounded: a few examples per operation, no deadline. Fails on an HTTP 500, a
status the schema does not document, a response that violates the schema, or a write by the read-only token."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from knox.models import AuthToken

from tests.access_world import build_world
from tests.test_access_matrix import WriteWatch

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("admin", "worker", "auditor", "emp2", "institution")  # institution: a 机构接口账号 (定点医药机构)
EXAMPLES = 3


@pytest.fixture(scope="module")
def fuzz(django_db_setup, django_db_blocker, tmp_path_factory):
    # in-process WSGI inside one rolled-back transaction: keep the connection open between requests
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), ALLOWED_HOSTS=["*"])
    with django_db_blocker.unblock(), media:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = build_world()
            users = {**w.users, "institution": w.institution_login}
            w.tokens = {role: AuthToken.objects.create(user=users[role])[1] for role in ROLES}
            app = WSGIHandler()
            w.schema = schemathesis.openapi.from_wsgi(
                "/api/v1/schema/?format=json", app, headers={"Authorization": f"Token {w.tokens['admin']}"}
            )
            yield w
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def test_schema_covers_every_api_operation(fuzz):
    labels = {f"{op.method.upper()} {op.path}" for op in _operations(fuzz.schema)}
    assert "POST /api/v1/payments/" in labels and "GET /api/v1/dues/{id}/" in labels
    assert len(labels) >= 15


@pytest.mark.parametrize("role", ROLES)
def test_no_500_no_undocumented_status_no_schema_violation(fuzz, role):
    headers = {"Authorization": f"Token {fuzz.tokens[role]}"}
    problems: list[str] = []
    for operation in _operations(fuzz.schema):
        if operation.path.startswith("/api/v1/auth/"):
            continue  # login/logout would spend or revoke the fuzzing token; tested in test_api_tokens

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            cache.clear()  # the throttle is tested on its own
            read_only_write = role == "auditor" and case.method.upper() not in ("GET", "HEAD", "OPTIONS")
            with transaction.atomic():
                if read_only_write:
                    with WriteWatch() as watch:
                        response = case.call(headers=headers)
                else:
                    response = case.call(headers=headers)
                transaction.set_rollback(True)
            if read_only_write and watch.changed:
                raise AssertionError(f"read-only token wrote {watch.changed}")
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:
            problems.append(f"{role} {operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not problems, "\n\n".join(problems)
