"""Static files as production serves them: fingerprinted, compressed, cached for good, all from the site itself."""

import importlib
import re
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import WorkshopFactory

ASSET = re.compile(r'<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)"')


def production_storages(monkeypatch) -> dict:
    for name, value in {
        "DJANGO_SECRET_KEY": "test-only-not-secret",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
    }.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("config.settings.production", None)
    try:
        return importlib.import_module("config.settings.production").STORAGES
    finally:
        sys.modules.pop("config.settings.production", None)


@pytest.fixture
def production_static(settings, tmp_path, monkeypatch):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = production_storages(monkeypatch)
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


@pytest.mark.django_db
def test_public_pages_load_only_fingerprinted_assets_of_their_own(production_static):
    workshop = WorkshopFactory()
    urls = ["/", workshop.get_absolute_url(), f"/workshops/{workshop.slug}/register/"]
    client = Client()
    assets = set()
    for url in urls:
        html = client.get(url).content.decode()
        assets.update(ASSET.findall(html))
    assert assets
    assert all(a.startswith("/static/") for a in assets), sorted(assets)
    assert all(re.search(r"\.[0-9a-f]{12}\.(css|js|png|svg|ico)$", a) for a in assets), sorted(assets)


@pytest.mark.django_db
def test_static_files_are_compressed_and_cached_for_good(production_static):
    html = Client().get("/").content.decode()
    stylesheet = next(a for a in ASSET.findall(html) if a.endswith(".css"))
    response = Client().get(stylesheet, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 365 * 24 * 3600
