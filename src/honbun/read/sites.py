"""Which site a page belongs to: the one key that training, the repetition feature (when
scoring a page alone or with a site context) and leave-one-site-out cross-validation group
pages by: the host without ``www.``, so ``www.asahi.com`` and ``asahi.com`` are one site."""

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
    """The page's site: its ``site`` meta, else :func:`site_key` of its canonical URL (the
    key its annotation header has: training counts a site's pages under it), else ``""``."""
    return page.meta.get("site", "") or site_key(page.meta.get("url"))
