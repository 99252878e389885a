"""Issue #16 items 5 and 7: the versioned prefix, the changelog, machine tokens (issue, use, expiry,
revocation), the employer scope under a token, throttling per client and the audit of API writes."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from apiaudit.models import ApiWrite

pytestmark = pytest.mark.django_db


def basic(username: str, password: str = "pw-123456") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def login(client: APIClient, username: str, password: str = "pw-123456"):
    return client.post("/api/v1/auth/login/", HTTP_AUTHORIZATION=basic(username, password))


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_employer_user_gets_a_token_and_sees_only_its_employer(employer_user_a, employer_a, employer_b):
    client = APIClient()
    answer = login(client, "t_emp_a")
    assert answer.status_code == 200, answer.content
    token = answer.json()["token"]
    assert answer.json()["expiry"]
    # the token is stored hashed: its text is not in the table
    assert not AuthToken.objects.filter(digest=token).exists()
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = machine.get("/api/v1/employers/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [employer_a.pk]
    assert machine.get(f"/api/v1/employers/{employer_b.pk}/").status_code == 404
    # the issue of the token was a write: audited with the user
    audit = ApiWrite.objects.get(path="/api/v1/auth/login/")
    assert audit.user == employer_user_a and audit.status == 200


def test_staff_get_no_token_and_a_wrong_password_gets_none(case_worker, employer_user_a):
    client = APIClient()
    assert login(client, "t_worker").status_code == 403  # staff use their session
    assert login(client, "t_emp_a", "wrong-password").status_code in (401, 403)
    assert AuthToken.objects.count() == 0
    assert ApiWrite.objects.count() == 0  # refused: nothing written, nothing recorded


def test_machine_client_with_use_token_permission_gets_a_token(case_worker):
    from django.contrib.auth.models import Permission

    case_worker.user_permissions.add(Permission.objects.get(codename="use_token"))
    answer = login(APIClient(), "t_worker")
    assert answer.status_code == 200


def test_expired_and_revoked_tokens_are_refused(employer_user_a):
    instance, token = AuthToken.objects.create(user=employer_user_a, expiry=timedelta(days=1))
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert machine.get("/api/v1/persons/").status_code == 200
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert machine.get("/api/v1/persons/").status_code == 401
    instance2, token2 = AuthToken.objects.create(user=employer_user_a)
    machine.credentials(HTTP_AUTHORIZATION=f"Token {token2}")
    assert machine.post("/api/v1/auth/logout/").status_code == 204  # revoked by its holder
    assert machine.get("/api/v1/persons/").status_code == 401
    assert not AuthToken.objects.filter(pk=instance2.pk).exists()


def test_unversioned_paths_still_answer_and_an_unknown_version_is_404(admin_client, employer_a):
    assert admin_client.get("/api/employers/").status_code == 200
    assert admin_client.get("/api/v1/employers/").status_code == 200
    assert admin_client.get("/api/v9/employers/").status_code == 404


def test_changelog_and_version_schema(admin_client, client):
    page = admin_client.get("/api/changelog/")
    assert page.status_code == 200 and "/api/v1/" in page.content.decode()
    schema = admin_client.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/auth/login/" in schema.json()["paths"]
    assert client.get("/api/changelog/").status_code == 302  # login first


def test_throttle_counts_each_token_on_its_own(employer_user_a, monkeypatch):
    from apiaudit.api import ClientRateThrottle

    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "3/minute"})
    _, t1 = AuthToken.objects.create(user=employer_user_a)
    _, t2 = AuthToken.objects.create(user=employer_user_a)
    one, two = APIClient(), APIClient()
    one.credentials(HTTP_AUTHORIZATION=f"Token {t1}")
    two.credentials(HTTP_AUTHORIZATION=f"Token {t2}")
    codes = [one.get("/api/v1/persons/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert two.get("/api/v1/persons/").status_code == 200  # another client, its own count
