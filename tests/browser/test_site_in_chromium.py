"""The website as a person on a phone sees it, in Debian's headless Chromium driven by Playwright."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"Chromium not installed at {CHROMIUM}"),
]


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; Django refuses ORM calls from such a thread unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def test_phone_visitor_switches_to_english_and_logs_in(page, live_server, enterprise_admin):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "网上技术市场" in page.title()

    # The navigation is folded behind the menu button on a narrow screen.
    assert not page.locator(".site-nav").is_visible()
    page.click(".nav-toggle-label")
    assert page.locator(".site-nav").is_visible()

    page.click("button[name=language][value=en]")
    page.wait_for_url(live_server.url + "/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Online Technology Market" in page.title()

    page.goto(live_server.url + "/en/accounts/login/")
    page.fill("input[name=username]", enterprise_admin.email)
    page.fill("input[name=password]", "pass-1234-word")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/en/dashboard/")
    assert enterprise_admin.organizations.first().name in page.content()
