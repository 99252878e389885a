"""Who may print what, and issuing a document: the register row and the PDF in one transaction.

Printing is a read of the figures (every staff role prints, the auditor 审计人员 too — the register row is
the bureau's own trace of what left the office); employer users (单位经办员) print only for the people and
the employer they see through the one scope rule. The 身份证号 appears in full only for roles that may see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from enrollment.access import employer_id_of, is_bureau
from enrollment.models import Employer, InsuredPerson

from ..models import DocumentKind, IssuedDocument
from . import content as docs
from .codes import digest, new_code
from .render import pdf_of

#: The permission each kind needs (besides the scope rule): the view permission of the data it prints.
PERMS = {
    DocumentKind.ENROLMENT: "enrollment.view_insuredperson",
    DocumentKind.CONTRIBUTIONS: "contributions.view_monthlydue",
    DocumentKind.ACCOUNT: "funds.view_fundaccount",
    DocumentKind.EMPLOYER_NOTICE: "contributions.view_monthlydue",
    DocumentKind.CLEARANCE: "retirement.view_retirementclearancecase",
}
#: Kinds an employer user may print (for its own people / itself); the others are bureau-only.
EMPLOYER_KINDS = frozenset({DocumentKind.ENROLMENT, DocumentKind.CONTRIBUTIONS, DocumentKind.EMPLOYER_NOTICE})
#: Kinds a bulk run prints for every person of an employer.
BULK_KINDS = (DocumentKind.ENROLMENT, DocumentKind.CONTRIBUTIONS)


def may_print(user, kind: str) -> bool:
    """The role may print this kind at all (the subject is then found through the scope rule)."""
    if not user.is_authenticated or not user.has_perm(PERMS[kind]):
        return False
    return is_bureau(user) or (employer_id_of(user) and kind in EMPLOYER_KINDS)


def persons_for(user):
    """Persons the user may print for (an employer user: those with a span at its employer)."""
    return InsuredPerson.objects.visible_to(user)


def employers_for(user):
    return Employer.objects.visible_to(user).select_related("jurisdiction")


def verify_path(code: str) -> str:
    return reverse("documents:verify_code", kwargs={"code": code})


@dataclass
class Issued:
    document: IssuedDocument
    pdf: bytes


def build(kind: str, *, user, as_of: date, **subject: Any) -> docs.Content:
    """The content of one document (raises :class:`~.content.DocumentUnavailable` with a message)."""
    if kind == DocumentKind.ENROLMENT:
        return docs.enrolment(subject["person"], on=as_of, user=user)
    if kind == DocumentKind.CONTRIBUTIONS:
        return docs.contributions(subject["person"], start=subject["start"], end=subject["end"], as_of=as_of, user=user)
    if kind == DocumentKind.ACCOUNT:
        return docs.account(subject["person"], year=subject["year"], as_of=as_of, user=user)
    if kind == DocumentKind.EMPLOYER_NOTICE:
        return docs.employer_notice(subject["employer"], month=subject["month"], as_of=as_of, user=user)
    if kind == DocumentKind.CLEARANCE:
        return docs.clearance(subject["case"], as_of=as_of, user=user)
    raise ValueError(kind)


def issue(content: docs.Content, *, user, base_url: str, batch=None) -> Issued:
    """Register the document under a fresh code and render its PDF; nothing is kept if rendering fails."""
    for _ in range(5):  # a clash of 59 random bits is next to impossible; retried all the same
        code = new_code()
        try:
            with transaction.atomic():
                doc = IssuedDocument.objects.create(
                    kind=content.kind,
                    code=code,
                    person=content.person,
                    employer=content.employer,
                    subject_masked=content.subject_masked[:100],
                    subject_id_masked=content.subject_id_masked[:32],
                    period_start=content.period_start,
                    period_end=content.period_end,
                    period_label=content.period_label[:50],
                    as_of=content.as_of,
                    digest=digest(content.figures()),
                    issued_by=user,
                    issued_at=timezone.now(),
                    batch=batch,
                )
                pdf = pdf_of(
                    content,
                    code=code,
                    verify_url=base_url.rstrip("/") + verify_path(code),
                    issued_at=timezone.localtime(doc.issued_at),
                    issuer=_issuer(user),
                )
                return Issued(doc, pdf)
        except IntegrityError:
            if IssuedDocument.objects.filter(code=code).exists():
                continue
            raise
    raise RuntimeError("核验码生成失败")


def _issuer(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def filename(content: docs.Content, code: str) -> str:
    """``参保证明_张三_ABCD….pdf`` (a masked name: the file name travels further than the paper)."""
    who = content.subject_masked.replace("*", "某") if content.person else content.subject_masked
    return f"{content.title}_{who}_{content.period_label or content.as_of}_{code}.pdf".replace(" ", "").replace(
        "/", "-"
    )
