"""Which site a page belongs to: the key that training, the repetition feature, site
context and leave-one-site-out cross-validation group pages by."""

from __future__ import annotations

from urllib.parse import urlsplit

from honbun.read.page import Page


def site_key(url: str | None, fallback: str = "") -> str:
    """The URL's host, lower-cased and without ``www.``; ``fallback`` when it has none."""
    if url:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:  # a malformed URL (a page's <link rel=canonical>)
            host = ""
        if host:
            return host.removeprefix("www.")
    return fallback


def site_of(page: Page) -> str:
    """The page's site: its ``site`` meta, else its canonical URL's host, else ``""``."""
    site = page.meta.get("site", "")
    if site:
        return site
    try:
        return (urlsplit(page.meta.get("url", "")).hostname or "").lower()
    except ValueError:  # a malformed URL in a page's <link rel=canonical>
        return ""
