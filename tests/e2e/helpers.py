"""What the browser tests check on every page: axe-core's WCAG 2.1 A/AA audit, phone layout, screenshots."""

from pathlib import Path

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips (or, with REQUIRE_BROWSER=1, fails) every test then
    expect = None

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def audit(page, axe_source: str, state: str = "") -> None:
    """Run axe-core on the page as it is now and fail on any WCAG 2.1 A/AA violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the site's Content-Security-Policy forbids inline
        # <script> tags (add_script_tag), and must stay on in these tests to catch our own.
        page.evaluate(axe_source + "\n;true")
    errors_before = len(getattr(page, "page_errors", []))
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))",
        WCAG_TAGS,
    )
    if hasattr(page, "page_errors"):
        # axe-core adds a <style> element of its own for some checks (injectStyle); the site's CSP rightly
        # blocks it. That is the audit tool, not the page: drop only those reports made while axe ran.
        during = page.page_errors[errors_before:]
        page.page_errors[errors_before:] = [e for e in during if "Applying inline style violates" not in e]
    where = f"{page.url}{f' ({state})' if state else ''}"
    assert violations == [], f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) on {where}:\n" + "\n".join(
        f"- {v['id']} [{v['impact']}]: {v['help']} -> {', '.join(v['targets'][:5])}" for v in violations
    )


def phone_layout_problems(page) -> list[str]:
    """What makes the page hard to use on a 375px-wide phone: sideways scrolling, small text, small buttons."""
    return page.evaluate(
        """() => {
        const problems = [];
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth > width) {
            const wide = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .slice(0, 3).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
            problems.push(`scrolls sideways: ${document.documentElement.scrollWidth}px wide in a ${width}px viewport (${wide.join(', ')})`);
        }
        const bodySize = parseFloat(getComputedStyle(document.body).fontSize);
        if (bodySize < 16) problems.push(`body text is ${bodySize}px`);
        const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
        for (const el of document.querySelectorAll('button, .btn, input[type=submit], [role=button]')) {
            if (!visible(el)) continue;
            const h = el.getBoundingClientRect().height;
            const label = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim().slice(0, 40);
            if (h < 44) problems.push(`button "${label}" is ${h.toFixed(1)}px tall`);
        }
        return problems;
    }"""
    )


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as tests/e2e/screenshots/<name>.png (git-ignored) and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def focus_indicator(page) -> dict:
    """The focused element and whether an outline of at least 2px marks it (the site's focus style)."""
    return page.evaluate(
        """() => {
        const el = document.activeElement;
        const s = getComputedStyle(el);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
        // Whether site.css is in force at all: a stylesheet caught mid-edit would otherwise look like a focus bug.
        const siteCss = getComputedStyle(document.documentElement).getPropertyValue('--esl-teal').trim() !== '';
        return {tag: el.tagName.toLowerCase(), name: el.getAttribute('name') || el.id || el.textContent.trim().slice(0, 40),
                visible: outline, outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, shadow: s.boxShadow,
                site_css: siteCss};
    }"""
    )
