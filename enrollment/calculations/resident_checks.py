"""城乡居民参保登记核查 (险种 390): who enrols where, and newborns' cover, as plain functions over facts and dates.

- 学籍地参保 students in their place of study: sanmenxia 第二十九条 (全日制大中专学生（含全日制研究生）原则上应在
  学籍地参加居民基本医疗保险), ``resident.students_enrol_where_studying``;
- 新生儿 newborns: sanmenxia 第三十八条 — covered in the birth year with a parent in basic medical insurance; where
  the parents are insured outside the pooling area, registered within 90 days of birth
  (``resident.newborn_birth_year_cover``, ``resident.newborn_registration_days``);
- 一人不得同时参加职工医保和居民医保: :func:`scheme_clash` words the refusal of an overlap between schemes.

A jurisdiction whose document is silent has no value: the function raises ``PolicyMissing`` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from policy.resolver import Policy

STUDENTS_WHERE_STUDYING = "resident.students_enrol_where_studying"
NEWBORN_COVER = "resident.newborn_birth_year_cover"
NEWBORN_DAYS = "resident.newborn_registration_days"

#: 新生儿父母的参保情况: in this pooling area, elsewhere, or not in basic medical insurance at all.
PARENTS_HERE, PARENTS_ELSEWHERE, PARENTS_NONE = "here", "elsewhere", "none"
PARENTS_INSURED = (PARENTS_HERE, PARENTS_ELSEWHERE, PARENTS_NONE)

SCHEME_NAMES = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}


# --- 学籍地参保 ------------------------------------------------------------------------------------------


def student_place_refusal(
    policy: Policy, *, kind: str, jurisdiction: str, study_jurisdiction: str | None
) -> str | None:
    """The refusal (citing the article) of a full-time student enrolling outside the place of study, else ``None``.

    ``study_jurisdiction``: the pooling area of the school (学籍地); unknown (``None``) is not judged."""
    if kind != "student" or not study_jurisdiction:
        return None
    if not policy.value(STUDENTS_WHERE_STUDYING):
        return None
    if study_jurisdiction == jurisdiction:
        return None
    return (
        f"全日制学生原则上应在学籍地参加居民医保：学籍地为 {study_jurisdiction}，"
        f"不在 {jurisdiction} 登记（{policy.citation(STUDENTS_WHERE_STUDYING)}）。"
    )


# --- 新生儿 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewbornCover:
    """新生儿出生当年的居民医保待遇: ``[start, end)`` when covered, else the reason; ``deadline`` the last day to
    register where the parents are insured elsewhere."""

    covered: bool
    start: date | None
    end: date | None
    deadline: date | None
    reason: str


def newborn_deadline(policy: Policy, birth_date: date) -> date:
    """Last day to register a newborn whose parents are insured outside the area: 90天内 counts from the day after
    birth (as 30日内 of the registration deadlines), so born 1 March → 30 May."""
    return birth_date + timedelta(days=int(policy.value(NEWBORN_DAYS)))


def newborn_cover(policy: Policy, *, birth_date: date, parents_insured: str, registered_on: date) -> NewbornCover:
    """第三十八条: a newborn is covered from birth to the end of the birth year when a parent is in basic medical
    insurance here (自动获取参保资格，以母或父身份享受), or is insured elsewhere and the newborn is registered within
    the deadline; otherwise not covered in the birth year (enrolled as a resident like anybody else)."""
    if parents_insured not in PARENTS_INSURED:
        raise ValueError(f"parents_insured: {parents_insured!r} 不在 {', '.join(PARENTS_INSURED)} 中")
    if registered_on < birth_date:
        raise ValueError(f"登记日期 {registered_on} 早于出生日期 {birth_date}")
    cite = policy.citation(NEWBORN_COVER) if policy.has(NEWBORN_COVER) else ""
    if not policy.value(NEWBORN_COVER):
        reason = f"本统筹区新生儿不随父母享受出生当年居民医保待遇（{cite}）。"
        return NewbornCover(False, None, None, None, reason)
    end = date(birth_date.year + 1, 1, 1)
    if parents_insured == PARENTS_NONE:
        return NewbornCover(
            False, None, None, None, f"父母均未参加基本医疗保险，新生儿不随父母获取出生当年参保资格（{cite}）。"
        )
    if parents_insured == PARENTS_HERE:
        return NewbornCover(True, birth_date, end, None, f"随在本统筹区参保的父母享受出生当年居民医保待遇（{cite}）。")
    deadline = newborn_deadline(policy, birth_date)
    days_cite = policy.citation(NEWBORN_DAYS)
    if registered_on > deadline:
        return NewbornCover(
            False,
            None,
            None,
            deadline,
            f"父母参保地不在本统筹区，应于出生后 {policy.value(NEWBORN_DAYS)} 天内（{deadline} 前）办理参保登记，"
            f"{registered_on} 登记已逾期，不享受出生当年待遇（{days_cite}）。",
        )
    return NewbornCover(
        True, birth_date, end, deadline, f"父母参保地不在本统筹区，已于 {deadline} 前办理参保登记（{days_cite}）。"
    )


# --- 不得同时参加两种基本医疗保险 --------------------------------------------------------------------------------


def scheme_clash(*, new_insutype: str, existing_insutype: str, existing_start: date, existing_end: date | None) -> str:
    """The refusal of a span overlapping another: between the two schemes it names both (一人不得同时参加职工医保和
    居民医保, hunan 第十六条; the database constraint of enrollment 0002 holds it everywhere)."""
    period = f"{existing_start}–{existing_end or '至今'}"
    if new_insutype != existing_insutype:
        return (
            f"一人不得同时参加职工医保和居民医保：该人员 {period} 已参加"
            f"{SCHEME_NAMES.get(existing_insutype, existing_insutype)}（险种 {existing_insutype}），"
            f"须先终止该参保关系，再登记{SCHEME_NAMES.get(new_insutype, new_insutype)}。"
        )
    return f"与已有{SCHEME_NAMES.get(existing_insutype, existing_insutype)}参保关系重叠：{period}。"
