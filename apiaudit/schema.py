"""接口文档 (issue #16 item 6): every operation documents the refusals it can answer, so that a client (and
schemathesis) meets no undocumented status: 400 (field → message), 401, 403, 404 (an object outside the
caller's scope or a malformed id), 429 (throttled)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

ERROR_BODY = {
    "type": "object",
    "description": "错误：{'detail': 说明} 或 {字段: [说明, …]}",
    "additionalProperties": True,
}
STANDARD = {
    "400": "请求不合法：字段 → 说明（含分页参数、筛选参数）",
    "401": "未认证（无令牌、令牌过期或已吊销、未登录）",
    "403": "无权执行（角色或单位范围）",
    "429": "请求过于频繁（按客户端限流）",
}
NOT_FOUND = "不存在、不在本单位范围内，或编号格式不对"


class DocumentedErrorsSchema(AutoSchema):
    """AutoSchema adding the standard refusals to each operation that does not declare them itself."""

    def _get_response_bodies(self, direction: str = "response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        extra = dict(STANDARD)
        if self.path_regex and "{" in self.path:
            extra["404"] = NOT_FOUND
        for code, text in extra.items():
            responses.setdefault(code, {"description": text, "content": {"application/json": {"schema": ERROR_BODY}}})
        return responses


def versioned_only(endpoints, **kwargs):
    """The schema lists the versioned paths (/api/v1/…) only: the unversioned ones are kept for old clients
    and answer the same; the schema documents itself nowhere."""
    return [e for e in endpoints if e[0].startswith(("/api/v", "/api/{version}")) and not e[0].endswith("/schema/")]
