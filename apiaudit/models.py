"""接口写入审计 (issue #16 item 5): who wrote what through the API, when, and with which client token."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiWrite(models.Model):
    """接口写入记录: one row per POST/PUT/PATCH/DELETE answered by the API, written in the write's own
    transaction (a rolled-back write leaves no row; a refused write is recorded with its status)."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.PROTECT, null=True, blank=True
    )
    token_key = models.CharField("令牌标识", max_length=16, blank=True, help_text="令牌前 15 位；会话登录为空")
    client = models.CharField("客户端", max_length=150, blank=True)
    method = models.CharField("方法", max_length=8)
    path = models.CharField("路径", max_length=500)
    status = models.PositiveSmallIntegerField("HTTP 状态")

    class Meta:
        verbose_name = verbose_name_plural = "接口写入审计"
        ordering = ("-at", "-id")
        permissions = (("use_token", "以令牌访问接口（机器客户端）"),)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status}"
