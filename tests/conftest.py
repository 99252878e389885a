"""Shared fixtures: the four roles' users, a small register, a fresh policy snapshot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections

from enrollment import services
from enrollment.models import EmployerUser
from enrollment.roles import AUDITOR, BUREAU_ADMIN, CASE_WORKER, EMPLOYER_USER
from operations.demo.population import credit_code, id_number
from policy import resolver as policy_module

# --- the bad-input corpus summary (issue #12 item 8) ------------------------------------------------------

BAD_INPUT_AREAS = ("payroll", "payment", "claims", "admin_form", "api", "documents", "requests")
BAD_INPUT_OUTCOMES = ("row_error", "file_error", "form_error", "accepted")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tag a ``@pytest.mark.bad_input(area=..., outcome=...)`` case in its report (sent back by xdist workers).

    ``outcome="mixed"`` marks a parametrised table whose rows give their outcome as the ``expected`` parameter.
    """
    marker = item.get_closest_marker("bad_input")
    if marker is None:
        return
    area, outcome = marker.kwargs.get("area"), marker.kwargs.get("outcome")
    if outcome == "mixed":  # a parametrised table whose rows carry their own outcome in ``expected``
        outcome = getattr(item, "callspec", None) and item.callspec.params.get("expected")
    if area not in BAD_INPUT_AREAS or outcome not in BAD_INPUT_OUTCOMES:
        raise pytest.UsageError(f"{item.nodeid}: bad_input(area={area!r}, outcome={outcome!r}) breaks the convention")
    item.user_properties.append(("bad_input", f"{area}:{outcome}"))


def bad_input_counts(reports) -> tuple[Counter, Counter]:
    """Outcomes and areas of the corpus cases that ran (one call report each)."""
    outcomes: Counter = Counter()
    areas: Counter = Counter()
    for report in reports:
        if getattr(report, "when", None) != "call":
            continue
        for name, value in getattr(report, "user_properties", ()):
            if name == "bad_input":
                area, outcome = value.split(":", 1)
                outcomes[outcome] += 1
                areas[area] += 1
    return outcomes, areas


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """ "bad-input corpus: 132 cases — row_error 70, …" and one line per area, at the end of the run."""
    reports = [r for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])]
    outcomes, areas = bad_input_counts(reports)
    if not outcomes:
        return
    total = sum(outcomes.values())
    by_outcome = ", ".join(f"{k} {n}" for k, n in outcomes.most_common())
    by_area = ", ".join(f"{k} {n}" for k, n in areas.most_common())
    terminalreporter.write_line(f"bad-input corpus: {total} cases — {by_outcome}")
    terminalreporter.write_line(f"bad-input corpus by area: {by_area}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> Iterator[None]:
    """pytest-django's test databases; before it drops them, the sessions still open on them are ended. The browser
    tests' ORM calls run while Playwright's sync API holds the thread, in another context of Django's per-context
    connections: that connection is never closed, and the test database could not be dropped ("being accessed by
    other users")."""
    yield
    with django_db_blocker.unblock():
        for conn in connections.all():
            if conn.vendor == "postgresql":
                with conn.cursor() as cur:
                    cur.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


@pytest.fixture
def fresh_policy() -> Iterator[None]:
    """Forget the process-wide policy snapshot before and after the test.

    Rows a test adds are rolled back without signals, so a snapshot built during the test must not outlive
    it, nor one left by an earlier test be read in it. Named, not autouse: used by the files that enter
    values or pend on them (``pytestmark = pytest.mark.usefixtures("fresh_policy")``).
    """
    policy_module.invalidate()
    yield
    policy_module.invalidate()


@pytest.fixture
def claim_stats(db) -> None:
    """The statistics claims read (demo values): hunan's 大病 deductible, ziyang's 大额 deductible and wage."""
    from tests.test_claims import stat

    stat("hunan", "critical_illness_deductible", 15000)
    stat("ziyang", "large_amount_deductible", 40000)
    stat("ziyang", "annual_average_wage", 80000)


def make_user(username: str, group: str, **extra):
    user = get_user_model().objects.create_user(username=username, password="pw-123456", is_staff=True, **extra)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def employer_a(db):
    return services.employer_register(
        credit_code=credit_code("430102", 1), name="甲公司", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )


@pytest.fixture
def employer_b(db):
    return services.employer_register(
        credit_code=credit_code("430102", 2), name="乙公司", jurisdiction="hunan", registered_on=date(2020, 1, 1)
    )


@pytest.fixture
def person_factory(db):
    counter = iter(range(1, 10_000))

    def make(*, employer=None, category="employee", start=date(2023, 1, 1), male=True, birth=date(1980, 5, 17), **kw):
        person = services.person_register(
            id_number=id_number("430102", birth, next(counter), male), name=kw.pop("name", "测试人"), **kw
        )
        services.span_open(
            person=person,
            jurisdiction=employer.jurisdiction if employer else "hunan",
            category=category,
            start=start,
            employer=employer,
        )
        return person

    return make


@pytest.fixture
def admin_user(db):
    return make_user("t_admin", BUREAU_ADMIN)


@pytest.fixture
def case_worker(db):
    return make_user("t_worker", CASE_WORKER)


@pytest.fixture
def auditor(db):
    return make_user("t_auditor", AUDITOR)


@pytest.fixture
def employer_user_a(db, employer_a):
    user = make_user("t_emp_a", EMPLOYER_USER)
    EmployerUser.objects.create(user=user, employer=employer_a)
    return user
