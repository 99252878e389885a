"""Accounts and deployment (issue #12, item 6): login lockout, password rules, check --deploy, no default
key, Content-Security-Policy, working-day sessions."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from enrollment.roles import BUREAU_ADMIN
from operations.management.commands.setup_demo import DEMO_USERS
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[1]
GOOD = "Lanhua-7391-qz"
LOCKED = "登录失败次数过多"


@pytest.fixture
def staff(db):
    user = make_user("lock_me", BUREAU_ADMIN)
    user.set_password(GOOD)
    user.save()
    return user


def _login(client, password: str, ip: str = "10.0.0.5"):
    return client.post(
        reverse("admin:login"), {"username": "lock_me", "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- lockout ---------------------------------------------------------------------------------------------


def test_admin_login_locks_after_five_failures_even_for_the_right_password(client, staff):
    for _ in range(4):
        page = _login(client, "wrong-password")
        assert page.status_code == 200 and not _logged_in(client)
    fifth = _login(client, "wrong-password")
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()
    right = _login(client, GOOD)
    assert right.status_code == 429 and not _logged_in(client)
    body = right.content.decode()
    assert LOCKED in body and "30 分钟" in body and 'name="username"' in body  # the login form, with the message


def test_lockout_is_per_username_and_address_and_ends_after_thirty_minutes(client, staff):
    for _ in range(5):
        _login(client, "wrong-password")
    other_address = _login(client, GOOD, ip="10.0.0.9")
    assert other_address.status_code == 302 and _logged_in(client)
    client.logout()
    assert _login(client, GOOD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert _login(client, GOOD).status_code == 302 and _logged_in(client)


def test_a_success_before_the_limit_resets_the_count(client, staff):
    for _ in range(4):
        _login(client, "wrong-password")
    assert _login(client, GOOD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "wrong-password")
    assert _login(client, GOOD).status_code == 302


def _basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"lock_me:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}", "REMOTE_ADDR": "10.0.0.7"}


def test_api_basic_auth_locks_too(client, staff):
    assert client.get("/api/persons/", **_basic(GOOD)).status_code == 200
    for _ in range(5):
        assert client.get("/api/persons/", **_basic("wrong-password")).status_code in (401, 403)
    locked = client.get("/api/persons/", **_basic(GOOD))
    assert locked.status_code in (401, 403, 429)
    assert AccessAttempt.objects.filter(username="lock_me", failures_since_start__gte=5).exists()


# --- passwords -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["12345678", "password", "short-1", "1234567890123", "qwertyuiop", "lock_me-99"])
def test_weak_passwords_are_refused(db, password):
    with pytest.raises(ValidationError):
        validate_password(password, get_user_model()(username="lock_me"))


@pytest.mark.parametrize(("username", "password"), [(u, p) for u, p, _, _ in DEMO_USERS])
def test_the_demo_passwords_pass_every_validator(db, username, password):
    validate_password(password, get_user_model()(username=username))  # raises if not


def test_password_change_form_applies_the_validators(client, staff):
    client.force_login(staff)
    page = client.post(
        reverse("admin:password_change"),
        {"old_password": GOOD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert page.status_code == 200 and "至少" in page.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(GOOD)


# --- deployment ------------------------------------------------------------------------------------------


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PLAIN_HTTP_INTRANET", "DEBUG")}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_warning_in_production():
    done = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        PLAIN_HTTP_INTRANET="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="medins.example.gov.cn",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_server_refuses_to_start_without_a_secret_key():
    # empty: a key in .env is not read over it
    done = _manage("runserver", "127.0.0.1:0", "--noreload", DEBUG="false", SECRET_KEY="")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY" in done.stderr
    wsgi = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}, "SECRET_KEY": "",
             "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert wsgi.returncode != 0 and "SECRET_KEY" in wsgi.stderr


def test_offline_commands_run_on_a_throwaway_key_without_one():
    done = _manage("makemigrations", "--check", "--dry-run", DEBUG="false", SECRET_KEY="")
    assert done.returncode == 0, done.stderr
    assert "No changes detected" in done.stdout


def test_plain_http_intranet_turns_https_off_explicitly():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    done = _manage("shell", "-c", code, DEBUG="false", PLAIN_HTTP_INTRANET="true", SECRET_KEY="x" * 60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].split() == ["False", "0", "False", "False"]


# --- Content-Security-Policy and sessions --------------------------------------------------------------


def test_every_page_carries_a_csp_and_inline_scripts_carry_its_nonce(admin_client):
    page = admin_client.get(reverse("admin:funds_health"))
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert "onchange=" not in page.content.decode()


def test_sessions_last_a_working_day_and_end_with_the_browser(client, staff):
    assert 8 * 3600 <= settings.SESSION_COOKIE_AGE <= 10 * 3600
    response = _login(client, GOOD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert client.session.get_expire_at_browser_close()
