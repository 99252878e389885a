"""``python manage.py policy_show JURISDICTION KEY [DATE]`` and ``policy_show JURISDICTION --missing [DATE]``.

Prints which value of a policy key applies on a date, its period, citation, decision, note and origin (file
and line, or staff entry with who and when), the other dated versions, and the code that reads the key.
"""

from __future__ import annotations

import difflib
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from policy.catalog import catalog
from policy.loader import missing_keys
from policy.models import Jurisdiction
from policy.provenance import Reference, Version, code_references, display, in_force, versions


def _period(v: Version) -> str:
    return f"[{v.start.isoformat()}, {v.end.isoformat() if v.end else '…'})"


class Command(BaseCommand):
    help = "显示政策参数在某日的现行值、期间、出处与来源，以及读取该参数的代码；--missing 列出缺少取值的参数。"

    def add_arguments(self, parser):
        parser.add_argument("jurisdiction", help="统筹区代码，例如 langfang")
        parser.add_argument("rest", nargs="*", metavar="KEY [DATE]", help="参数键与日期（YYYY-MM-DD，默认今天）")
        parser.add_argument(
            "--missing", nargs="?", const="", metavar="DATE", help="列出该日（默认今天）没有现行值的参数键"
        )

    def handle(self, *args, jurisdiction: str, rest: list[str], missing: str | None = None, **options) -> None:
        try:
            place = Jurisdiction.objects.get(code=jurisdiction)
        except Jurisdiction.DoesNotExist:
            codes = ", ".join(Jurisdiction.objects.values_list("code", flat=True))
            raise CommandError(f"未知统筹区 {jurisdiction!r}（可选：{codes}）") from None
        today = date.today()  # the command's own today, passed to the lookups (never read inside rules)
        if missing is not None:
            if rest:
                raise CommandError("用法：policy_show JURISDICTION --missing [DATE]")
            self._missing(place, self._date(missing) if missing else today)
            return
        if not 1 <= len(rest) <= 2:
            raise CommandError("用法：policy_show JURISDICTION KEY [DATE] 或 policy_show JURISDICTION --missing [DATE]")
        self._show(place, rest[0], self._date(rest[1]) if len(rest) == 2 else today)

    @staticmethod
    def _date(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"日期 {text!r} 无效，须为 YYYY-MM-DD") from None

    def _missing(self, place: Jurisdiction, on: date) -> None:
        rows = missing_keys(place.code, on)
        self.stdout.write(f"{place.name}（{place.code}）在 {on.isoformat()} 缺少取值的参数：{len(rows)} 项")
        for key, label in rows:
            self.stdout.write(f"  {key}  {label}")

    def _show(self, place: Jurisdiction, key: str, on: date) -> None:
        spec = catalog().get(key)
        if spec is None:
            near = difflib.get_close_matches(key, list(catalog()), n=5, cutoff=0.6)
            hint = f"（相近的键：{', '.join(near)}）" if near else ""
            raise CommandError(f"参数键 {key!r} 不在政策参数目录 policy/policies/catalog 中{hint}")
        write = self.stdout.write
        write(f"{place.name}（{place.code}） {key}")
        write(f"  说明：{spec.label}")
        write(f"  {spec.describe()}")
        found = versions(place.code, key)
        current = in_force(found, on)
        if current is None:
            write(f"{on.isoformat()} 无现行值：文件未规定，需由经办人员录入（D-X16）")
        else:
            row = current.row
            unit = f" {spec.unit}" if spec.unit and row.value is not None and not spec.grouped else ""
            write(f"{on.isoformat()} 的现行值：{display(row.value)}{unit}")
            write(f"  期间：{_period(current)}")
            write(f"  出处：{row.citation}")
            write(f"  产品决定：{row.decision or '—'}")
            if row.note:
                write(f"  说明：{row.note}")
            write(f"  来源：{current.origin}")
        others = [v for v in found if v is not current]
        write(f"其他版本：{len(others) if others else '无'}")
        for v in others:
            write(f"  {_period(v)} {display(v.row.value)}  出处 {v.row.citation}  来源 {v.origin}")
        refs, searched = code_references(key)
        if not refs:
            write("使用该参数的代码（used by）：未找到写出该键的模块")
            return
        by_file: dict[str, list[Reference]] = {}
        for ref in refs:
            by_file.setdefault(ref.path, []).append(ref)
        how = "" if searched == key else f"（代码按键名片段 {searched} 读取）"
        write(f"使用该参数的代码（used by）{how}：" + ", ".join(by_file))
        for path, lines in by_file.items():
            functions = ", ".join(dict.fromkeys(r.function or "模块级" for r in lines))
            numbers = ",".join(str(r.line) for r in lines[:10]) + (" …" if len(lines) > 10 else "")
            write(f"  {path}:{numbers}  （{functions}）")
