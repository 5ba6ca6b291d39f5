"""Browser tests: Playwright for Python driving Debian's headless Chromium against pytest-django's live server.

No browser is downloaded: the tests use /usr/bin/chromium (Debian's `chromium` package). Without it, or
without the playwright package, the whole package is skipped with the reason; CI sets REQUIRE_BROWSER=1,
which turns a missing browser into a failure instead.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by fixtures that seed
# data or read back rows) would otherwise refuse to run "inside" it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_VERSION = "4.14.1"
AXE_DIR = HERE / ".axe"  # git-ignored (node_modules/)
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "") not in ("", "0", "false", "False")


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    return None


def _unavailable(reason: str):
    if _browser_required():
        pytest.fail(f"REQUIRE_BROWSER is set but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item, not only ours.
    ours = [item for item in items if HERE in Path(str(item.fspath)).resolve().parents]
    for item in ours:
        item.add_marker(pytest.mark.e2e)
    reason = _missing_browser()
    if reason and not _browser_required():
        skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}; CI sets REQUIRE_BROWSER=1 to make this fail")
        for item in ours:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test gets its own context."""
    reason = _missing_browser()
    if reason:
        _unavailable(reason)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:
        pw.stop()
        _unavailable(f"{CHROMIUM} would not start: {exc}")
    yield chromium
    chromium.close()
    pw.stop()


def _installed_axe_version() -> str | None:
    try:
        return json.loads((AXE_JS.parent / "package.json").read_text())["version"] if AXE_JS.exists() else None
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry, installed on first use into tests/e2e/.axe/."""
    if _installed_axe_version() != AXE_VERSION:
        npm = shutil.which("npm")
        if not npm:
            _unavailable(f"npm is needed once to install axe-core into {AXE_DIR}")
        result = subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0 or _installed_axe_version() != AXE_VERSION:
            _unavailable(f"npm could not install axe-core@{AXE_VERSION}: {result.stderr.strip()[-500:]}")
    return AXE_JS.read_text()


@pytest.fixture
def site(live_server):
    """The live server with the demo catalog loaded (transactional: every test starts from an empty database)."""
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    return live_server


def _new_page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, locale="en-US", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"JavaScript error: {exc}"))
    # A stylesheet or script that fails to load makes later checks fail in confusing ways; say so plainly.
    page.on(
        "requestfailed",
        lambda request: errors.append(f"request failed: {request.url} ({request.failure})")
        if request.resource_type in ("stylesheet", "script", "font", "image") and request.failure != "net::ERR_ABORTED"
        # ERR_ABORTED: the page moved on (a click navigated, or a navigation turned into a CSV download) before the file
        # finished loading; that is not a file failing to load.
        else None,
    )
    page.on(
        "response",
        lambda response: errors.append(f"HTTP {response.status}: {response.url}")
        if response.status >= 500 or (response.status >= 400 and "/static/" in response.url)
        else None,
    )
    # Anything the Content-Security-Policy blocked (an inline script or style, a foreign source) fails the test.
    page.on(
        "console",
        lambda message: errors.append(f"blocked by the CSP: {message.text}")
        if "Content Security Policy" in message.text
        else None,
    )
    page.page_errors = errors
    return context, page


@pytest.fixture
def page(browser, site):
    """A desktop-sized page in a fresh context; fails the test on a JavaScript error, a failed request or a 5xx."""
    context, page = _new_page(browser, site, viewport=DESKTOP)
    yield page
    context.close()
    assert not page.page_errors, "\n".join(page.page_errors)


@pytest.fixture
def phone_page(browser, site):
    context, page = _new_page(browser, site, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()
    assert not page.page_errors, "\n".join(page.page_errors)


@pytest.fixture
def nojs_page(browser, site):
    """A page with JavaScript turned off: the server-rendered fallbacks must work on their own."""
    context, page = _new_page(browser, site, viewport=DESKTOP, java_script_enabled=False)
    yield page
    context.close()
