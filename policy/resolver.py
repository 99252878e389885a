"""The resolver: "value of KEY in JURISDICTION on DATE" (政策参数查询).

Rules never hold policy numbers; they receive a :class:`Policy` bound to a
jurisdiction and a date and ask it for values. A value that no document gives
raises :class:`PolicyMissing`, naming the jurisdiction, the key and the date
(POLICY-DIGEST D-X16): nothing is invented.

Values come from an in-memory snapshot of the ``PolicyParameter`` and
``ReferenceStatistic`` tables, rebuilt when either table changes in this process
(signals) and at most ``SNAPSHOT_TTL`` seconds old otherwise (other processes).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .catalog import catalog_labels
from .models import Jurisdiction, PolicyParameter, ReferenceStatistic, StatisticKey

SNAPSHOT_TTL = 60.0


class PolicyError(LookupError):
    """A value a calculation needs cannot be had."""


class PolicyMissing(PolicyError):
    """No value of a parameter or statistic is in force on the date asked."""

    def __init__(self, jurisdiction: str, key: str, on: date, *, kind: str = "参数", label: str = ""):
        self.jurisdiction, self.key, self.on, self.kind = jurisdiction, key, on, kind
        what = f"{key}（{label}）" if label else key
        super().__init__(
            f"缺少{kind}：{jurisdiction} 在 {on.isoformat()} 没有 {what} 的取值，"
            f"需由经办人员录入 (missing {'parameter' if kind == '参数' else 'statistic'} "
            f"'{key}' for {jurisdiction} on {on.isoformat()})"
        )


class UnknownJurisdiction(PolicyError):
    def __init__(self, code: str):
        self.code = code
        super().__init__(f"未知统筹区 (unknown jurisdiction): {code!r}")


def to_decimal(value: Any) -> Any:
    """Turn numbers (and numeric strings) inside a stored value into ``Decimal``; leave the rest."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value) if value.strip() and value.strip()[0] in "-0123456789" else value
        except InvalidOperation:
            return value
    if isinstance(value, list):
        return [to_decimal(v) for v in value]
    if isinstance(value, dict):
        return {k: to_decimal(v) for k, v in value.items()}
    return value


@dataclass
class _Versions:
    """Dated versions of one key, sorted by effective date."""

    dates: list[date] = field(default_factory=list)
    rows: list[tuple[Any, str, str]] = field(default_factory=list)  # (value, citation, decision)

    def at(self, on: date) -> tuple[Any, str, str] | None:
        i = bisect.bisect_right(self.dates, on)
        return self.rows[i - 1] if i else None

    def dated_at(self, on: date) -> tuple[date, tuple[Any, str, str]] | None:
        """(effective date, row) of the version in force on ``on``."""
        i = bisect.bisect_right(self.dates, on)
        return (self.dates[i - 1], self.rows[i - 1]) if i else None


#: 政策草案叠加: (jurisdiction, key) → the draft's dated versions, read over the stored ones.
Overlay = dict[tuple[str, str], _Versions]

_overlay: ContextVar[Overlay | None] = ContextVar("policy_draft_overlay", default=None)


def build_overlay(rows: Iterable[tuple[str, str, date, Any, str, str]]) -> Overlay:
    """An overlay from (jurisdiction, key, effective_from, value, citation, decision) rows (a draft's values)."""
    out: Overlay = {}
    for code, key, eff, value, cite, decision in sorted(rows, key=lambda r: r[2]):
        v = out.setdefault((code, key), _Versions())
        v.dates.append(eff)
        v.rows.append((to_decimal(value), cite, decision))
    return out


@contextmanager
def draft_overlay(overlay: Overlay | None) -> Iterator[None]:
    """Inside the block every :class:`Policy` built in this thread reads "production + draft" (草案测算):
    a draft version applies from its effective date until the next stored or draft version. Nothing is
    written; other threads and requests keep reading production."""
    token = _overlay.set(overlay or None)
    try:
        yield
    finally:
        _overlay.reset(token)


def active_overlay() -> Overlay | None:
    """The draft overlay of this thread, if a simulation or draft scenario run is under way."""
    return _overlay.get()


@dataclass
class Snapshot:
    jurisdictions: dict[str, str]
    parameters: dict[tuple[str, str], _Versions]
    statistics: dict[tuple[str, str], _Versions]
    labels: dict[str, str]
    built_at: float

    def same_values(self, other: Snapshot) -> bool:
        """The same policy data (only the build time differs)."""
        return (self.jurisdictions, self.parameters, self.statistics, self.labels) == (
            other.jurisdictions,
            other.parameters,
            other.statistics,
            other.labels,
        )


_lock = threading.Lock()
_snapshot: Snapshot | None = None


def invalidate() -> None:
    """Forget the snapshot; the next lookup rebuilds it (called on every parameter change)."""
    global _snapshot
    _snapshot = None


def snapshot() -> Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is None or time.monotonic() - snap.built_at > SNAPSHOT_TTL:
        with _lock:
            fresh = _build_snapshot()
            if snap is not None and snap.same_values(fresh):
                # nothing changed since: keep the object, so that what is memoised on it (the nightly's rule
                # answers, issue #13) survives the expiry instead of being thrown away every minute
                snap.built_at = fresh.built_at
                fresh = snap
            snap = _snapshot = fresh
    return snap


def _build_snapshot() -> Snapshot:
    params: dict[tuple[str, str], _Versions] = {}
    for code, key, eff, value, cite, decision in PolicyParameter.objects.order_by("effective_from").values_list(
        "jurisdiction__code", "key", "effective_from", "value", "citation", "decision"
    ):
        v = params.setdefault((code, key), _Versions())
        v.dates.append(eff)
        v.rows.append((to_decimal(value), cite, decision))
    stats: dict[tuple[str, str], _Versions] = {}
    for code, key, eff, value, label, is_demo in ReferenceStatistic.objects.order_by("effective_from").values_list(
        "jurisdiction__code", "key", "effective_from", "value", "period_label", "is_demo"
    ):
        v = stats.setdefault((code, key), _Versions())
        v.dates.append(eff)
        v.rows.append((value, label, "demo" if is_demo else ""))
    return Snapshot(
        jurisdictions=dict(Jurisdiction.objects.values_list("code", "name")),
        parameters=params,
        statistics=stats,
        labels=catalog_labels(),
        built_at=time.monotonic(),
    )


_ABSENT = object()


class Policy:
    """The policy of one jurisdiction on one date, as rules see it.

    ``stats`` overrides stored reference statistics, ``params`` stored parameter values as if staff had
    entered them effective on ``on`` (scenario files' ``stats`` and ``policy`` blocks, drafts). Every value
    read is remembered in ``used`` with its citation, so a result can show which rule values produced it.
    """

    def __init__(
        self,
        jurisdiction: str,
        on: date,
        *,
        stats: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        overlay: Overlay | None = None,
    ):
        snap = snapshot()
        if jurisdiction not in snap.jurisdictions:
            raise UnknownJurisdiction(jurisdiction)
        self.jurisdiction = jurisdiction
        self.on = on
        self._snap = snap
        self._stats = {k: to_decimal(v) for k, v in (stats or {}).items()}
        # (value, effective from): a given value applies from ``on`` onward, earlier dates keep the stored one
        self._params = {k: (to_decimal(v), on) for k, v in (params or {}).items()}
        # a draft's dated values over the stored ones (explicit, else the thread's draft_overlay)
        self._overlay = overlay if overlay is not None else _overlay.get()
        self.used: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self._snap.jurisdictions[self.jurisdiction]

    def at(self, on: date) -> Policy:
        """The same jurisdiction on another date (statistic overrides kept)."""
        other = Policy.__new__(Policy)
        other.__dict__.update(self.__dict__)
        other.on = on
        return other

    def _lookup(self, key: str) -> tuple[Any, str, str] | None:
        given = self._params.get(key)
        if given is not None and self.on >= given[1]:
            return given[0], "情形给定", ""
        versions = self._snap.parameters.get((self.jurisdiction, key))
        stored = versions.dated_at(self.on) if versions else None
        drafted = self._overlay.get((self.jurisdiction, key)) if self._overlay else None
        proposed = drafted.dated_at(self.on) if drafted else None
        if proposed is not None and (stored is None or proposed[0] >= stored[0]):
            return proposed[1]  # the draft's version is the latest in force on the date (a tie: the draft's)
        return stored[1] if stored else None

    def value(self, key: str, default: Any = _ABSENT) -> Any:
        """The parameter's value; ``PolicyMissing`` unless a default is given.

        A stored ``null`` means the document says the rule does not exist here
        (for example no base ceiling in langfang, D-L3) and is returned as ``None``.
        """
        row = self._lookup(key)
        if row is None:
            if default is not _ABSENT:
                return default
            raise PolicyMissing(self.jurisdiction, key, self.on, label=self._snap.labels.get(key, ""))
        value, cite, decision = row
        self.used[key] = f"{cite}{', ' + decision if decision else ''}"
        return value

    def has(self, key: str) -> bool:
        return self._lookup(key) is not None

    def decimal(self, key: str) -> Decimal:
        value = self.value(key)
        if not isinstance(value, Decimal):
            raise PolicyError(f"参数 {key}（{self.jurisdiction}）不是数值: {value!r}")
        return value

    def percent(self, key: str) -> Decimal:
        """A ``*_pct`` parameter as a fraction (8 → 0.08)."""
        return self.decimal(key) / 100

    def citation(self, key: str) -> str:
        row = self._lookup(key)
        return row[1] if row else ""

    def stat(self, key: str) -> Decimal:
        """A reference statistic in force on the date (or the override given)."""
        if key in self._stats:
            self.used[f"stats.{key}"] = "情形给定"
            return self._stats[key]
        versions = self._snap.statistics.get((self.jurisdiction, key))
        row = versions.at(self.on) if versions else None
        if row is None:
            label = dict(StatisticKey.choices).get(key, "")
            raise PolicyMissing(self.jurisdiction, key, self.on, kind="统计指标", label=label)
        value, period, demo = row
        self.used[f"stats.{key}"] = f"{period}{'（演示数据）' if demo else ''}"
        return value


def resolve(jurisdiction: str, key: str, on: date) -> Any:
    """Value of KEY in JURISDICTION on DATE."""
    return Policy(jurisdiction, on).value(key)
