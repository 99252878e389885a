"""API docs offline (issue #19 item 8): Swagger UI and ReDoc from drf-spectacular-sidecar, no CDN."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client):
    user = get_user_model().objects.create_user("docs", password="x", is_staff=True)
    client.force_login(user)
    return client


def _csp(response) -> str:
    return response.get("Content-Security-Policy", "")


def _local_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_page_loads_only_local_assets(client_in, url):
    response = client_in.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assets = _local_assets(html)
    assert assets, html
    for asset in assets:
        assert not asset.startswith(("http://", "https://", "//")), asset
    assert "cdn" not in _csp(response).lower()
    assert "https:" not in _csp(response)
    # no inline script: the CSP allows scripts from this site or with the page's nonce only
    assert not re.search(r"<script>(?!\s*</script>)", html)


def test_swagger_ui_static_files_exist_and_are_served(client_in):
    html = client_in.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    static = [s for s in scripts if s.startswith(settings.STATIC_URL) or s.startswith("/" + settings.STATIC_URL)]
    assert len(static) == 2, scripts  # swagger-ui-bundle.js, swagger-ui-standalone-preset.js
    for src in static:
        relative = src.split(settings.STATIC_URL, 1)[1]
        assert finders.find(relative), relative
    # the initialising script is served by the view itself (?script), allowed as 'self'
    own = [s for s in scripts if s not in static]
    assert own and own[0].startswith("/api/docs/")
    script = client_in.get(own[0])
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content


def test_redoc_static_file_exists(client_in):
    html = client_in.get("/api/redoc/").content.decode()
    (src,) = re.findall(r'<script src="([^"]+)"', html)
    assert finders.find(src.split(settings.STATIC_URL, 1)[1])


def test_csp_names_no_outside_host():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name, sources in directives.items():
        for source in sources:
            assert "://" not in str(source), (name, source)
