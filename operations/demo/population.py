"""Generated populations: employers, persons with valid 身份证号, enrolment spans.

Used by the quick start (a few hundred persons per jurisdiction) and by the
benchmarks (a million). Deterministic for a given seed; rows go in by COPY on
PostgreSQL. Identifiers are valid by construction (GB 11643, GB 32100) and
unique: the n-th generated person of a region maps to a distinct
(birth date, sequence) pair.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from batch.bulk import copy_rows
from batch.dialect import is_postgres
from enrollment.identifiers import _ID_CHECK, _ID_WEIGHTS, uscc_check_character
from enrollment.models import Employer, EmployerKind, EnrolmentSpan, InsuredPerson
from enrollment.names import name_initials
from policy.models import Jurisdiction

REGION = {"hunan": "430102", "langfang": "131002", "xianning": "421202", "sanmenxia": "411202", "ziyang": "512002"}
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏文斌宇浩凯欣怡佳琪晨阳"
FIRST_BIRTH = date(1950, 1, 1)
BIRTH_DAYS = 20454  # 1950-01-01 .. 2005-12-31: every generated person is an adult


def id_number(region: str, birth: date, seq: int, male: bool) -> str:
    """A valid 18-digit 身份证号; ``seq`` 0..499 gives the 3-digit sequence, odd for men."""
    body = f"{region}{birth:%Y%m%d}{seq * 2 + (1 if male else 0):03d}"
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def credit_code(region: str, n: int) -> str:
    body = f"91{region}{n:09d}"
    return body + uscc_check_character(body)


@dataclass
class PopulationCounts:
    employers: int
    persons: int
    spans: int


def _nth_person(n: int) -> tuple[date, int]:
    # 7919 is prime and does not divide BIRTH_DAYS, so n -> (day, seq) is one-to-one.
    return FIRST_BIRTH + timedelta(days=(n * 7919) % BIRTH_DAYS), n // BIRTH_DAYS


def generate_population(
    *, jurisdiction: str, employers: int, persons: int, as_of: date, seed: int = 1
) -> PopulationCounts:
    """Add ``employers`` employers and ``persons`` persons with one open span each.

    Categories follow age on ``as_of``: past 60 (men) / 55 (women) retirees; the
    rest mostly employees, some flexible workers and unemployment-benefit recipients.
    """
    rnd = random.Random(seed)
    initials = functools.lru_cache(maxsize=None)(name_initials)  # the search key, as InsuredPerson.save fills it
    jur = Jurisdiction.objects.get(code=jurisdiction)
    region = REGION.get(jurisdiction, "110101")
    with transaction.atomic():
        first_emp = (Employer.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        emp_rows = []
        for i in range(employers):
            n = first_emp + i
            kind = rnd.choices(
                [EmployerKind.ENTERPRISE, EmployerKind.FISCAL_INSTITUTION, EmployerKind.OTHER_INSTITUTION],
                [85, 10, 5],
            )[0]
            emp_rows.append(
                (
                    n,
                    credit_code(region, n),
                    f"{jur.name}演示单位{n:05d}",
                    kind,
                    "01",
                    "combined",
                    jur.pk,
                    date(2015, 1, 1),
                    "2",
                    False,
                    None,
                    None,
                    "monthly",
                    "",
                    "",
                    "",
                )
            )
        copy_rows(
            Employer,
            [
                "id",
                "credit_code",
                "name",
                "kind",
                "management_type",
                "scheme",
                "jurisdiction_id",
                "registered_on",
                "status",
                "is_difficult",
                "difficult_from",
                "difficult_until",
                "payment_frequency",
                "contact_name",
                "contact_phone",
                "address",
            ],
            emp_rows,
        )
        employer_ids = [r[0] for r in emp_rows] or list(
            Employer.objects.filter(jurisdiction=jur).values_list("id", flat=True)
        )
        start_n = InsuredPerson.objects.filter(id_number__startswith=region).count()
        first_person = (InsuredPerson.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        now = timezone.now()
        person_rows, span_rows = [], []
        for i in range(persons):
            birth, seq = _nth_person(start_n + i)
            male = rnd.random() < 0.52
            pid = first_person + i
            age = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
            role = "" if male else rnd.choice(["cadre", "worker"])
            name = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=2))
            person_rows.append(
                (
                    pid,
                    id_number(region, birth, seq, male),
                    name,
                    initials(name),
                    "1" if male else "2",
                    birth,
                    role,
                    f"139{rnd.randrange(10**8):08d}",
                    "",
                    0,
                    0,
                    now,
                )
            )
            retire_age = 60 if male else 55
            if age >= retire_age:
                category, employer = "retiree", None
                start = date(birth.year + retire_age, birth.month, 1) + timedelta(days=31)
                start = start.replace(day=1)
            else:
                r = rnd.random()
                category = "employee" if r < 0.84 else ("flexible" if r < 0.97 else "unemployed")
                employer = rnd.choice(employer_ids) if category == "employee" and employer_ids else None
                if category == "employee" and employer is None:
                    category = "flexible"
                earliest = max(date(birth.year + 18, 1, 1), date(2010, 1, 1))
                span_days = max((as_of - earliest).days, 1)
                start = (earliest + timedelta(days=rnd.randrange(span_days))).replace(day=1)
            span_rows.append((pid, jur.pk, category, employer, "combined", start, None, "1", "310"))
        copy_rows(
            InsuredPerson,
            [
                "id",
                "id_number",
                "name",
                "name_initials",
                "sex",
                "birth_date",
                "female_role",
                "phone",
                "address",
                "deemed_months",
                "military_months",
                "created_at",
            ],
            person_rows,
        )
        copy_rows(
            EnrolmentSpan,
            ["person_id", "jurisdiction_id", "category", "employer_id", "scheme", "start", "end", "status", "insutype"],
            span_rows,
        )
        _reset_sequences()
    return PopulationCounts(len(emp_rows), len(person_rows), len(span_rows))


def _reset_sequences() -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them."""

    if not is_postgres():
        return
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Employer, InsuredPerson]):
            cur.execute(sql)
