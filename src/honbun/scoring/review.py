"""A review page: scoring results as one self-contained HTML file to read in a browser.

For each page: its title and source, a table of the document's topics, and every block,
shaded by its body probability (``p_body``) and marked body or boilerplate with its role
(and the rule that moved it, if one did); body sentences tagged with a topic are
highlighted in the topic's colour with the label and probability, and with ``--explain``
the terms behind each tag. A failed page shows its error.

The file needs nothing else: styles and the small script (filter, open/close all) are
inline, fonts are the system's (a CJK font stack), and a Content-Security-Policy forbids
loading anything, so opening it never touches the network. Pages are ``<details>``
elements: the first :data:`OPEN_PAGES` open, the rest collapsed, their blocks kept as
text the browser does not parse until the page is opened, so a review of 1,000 pages is
one file that opens in the time its first pages take; inside a page,
runs of :data:`FOLD_RUN` or more boilerplate blocks (menus, footers, link lists) fold
into one line naming their roles, so the article is read in one go. Results are
written as they come (nothing is kept per page) into a file that appears only when
complete.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any

from honbun.atomic import atomic_open, finish
from honbun.scoring.results import Result

OPEN_PAGES = 20  # pages shown open; later ones start collapsed (one click each, or "open all")
FOLD_RUN = 3  # this many boilerplate blocks in a row fold into one line (a click opens them)
PALETTE = ("#c2185b", "#1565c0", "#e65100", "#6a1b9a", "#00796b", "#5d4037", "#283593", "#827717")
FONTS = (
    '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Yu Gothic", YuGothic, '
    'Meiryo, "Noto Sans CJK JP", "Noto Sans JP", "Source Han Sans JP", "IPAexGothic", '
    '"IPAGothic", system-ui, sans-serif'
)

_CSS = """
:root { --body: #2e7d32; --bp: #9e9e9e; }
* { box-sizing: border-box; }
body { margin: 0; font-family: FONTS; line-height: 1.75; color: #1b1b1b;
  background: #f6f6f3; font-size: 15px; }
header.top { position: sticky; top: 0; z-index: 2; background: #fff;
  border-bottom: 1px solid #ddd; padding: 8px 20px; }
header.top h1 { font-size: 17px; margin: 0 12px 0 0; display: inline; }
.meta, .legend { color: #555; font-size: 13px; }
.legend span { margin-right: 10px; white-space: nowrap; }
.sw { display: inline-block; width: 12px; height: 12px; vertical-align: -1px;
  margin-right: 3px; border-radius: 2px; }
.tools { margin-top: 4px; font-size: 13px; }
.tools input { width: 22em; padding: 2px 6px; }
main { padding: 12px 20px 40px; max-width: 1100px; }
details.page { background: #fff; border: 1px solid #ddd; border-radius: 6px;
  margin: 0 0 12px; }
details.page > summary { cursor: pointer; padding: 8px 12px; list-style-position: inside; }
details.page[open] > summary { border-bottom: 1px solid #eee; }
.ptitle { font-weight: 700; font-size: 16px; }
.num { color: #888; margin-right: 6px; font-size: 13px; }
.src { display: block; color: #666; font-size: 12px; word-break: break-all; }
.counts { color: #666; font-size: 12px; margin-left: 8px; }
.chip { display: inline-block; color: #fff; border-radius: 9px; padding: 0 8px;
  font-size: 12px; margin-left: 4px; line-height: 1.6; }
.pbody { padding: 10px 14px 14px; }
table.topics { border-collapse: collapse; font-size: 13px; margin: 0 0 10px; }
table.topics th, table.topics td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
table.topics td.num { text-align: right; color: inherit; font-variant-numeric: tabular-nums; }
table.topics tr.on td { font-weight: 700; }
details.run { margin: 6px 0; border-left: 5px dashed var(--bp); background: #f1f1f1;
  border-radius: 3px; padding: 2px 10px; font-size: 12px; color: #666; }
details.run > summary { cursor: pointer; }
.block { margin: 6px 0; padding: 4px 10px 6px; border-radius: 3px;
  background: rgb(46 125 50 / calc(0.04 + 0.22 * var(--p))); }
.block.body { border-left: 5px solid var(--body); color: #111; }
.block.boilerplate { border-left: 5px dashed var(--bp); color: #777; font-size: 13px; }
.bmeta { font-size: 11px; color: #555; font-family: ui-monospace, monospace;
  line-height: 1.4; }
.block.body .bmeta .lab { color: var(--body); font-weight: 700; }
.block.boilerplate .bmeta .lab { color: #757575; font-weight: 700; }
.bar { display: inline-block; width: 50px; height: 6px; background: #e0e0e0;
  vertical-align: 1px; margin: 0 4px; }
.bar i { display: block; height: 100%; background: var(--body); width: calc(var(--p) * 100%); }
.rule { color: #bf360c; }
.text { margin: 2px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.s.tagged { border-radius: 2px; padding: 1px 0; }
.tag { display: inline-block; color: #fff; font-size: 11px; border-radius: 3px;
  padding: 0 5px; margin: 0 2px; line-height: 1.5; vertical-align: 1px; }
.why { font-size: 10px; color: #666; background: #fafafa; border: 1px solid #eee;
  border-radius: 3px; padding: 0 4px; margin-right: 2px; }
details.page.failed > summary { color: #b71c1c; }
.err { color: #b71c1c; font-family: ui-monospace, monospace; font-size: 13px; }
footer { color: #666; font-size: 13px; padding: 0 20px 30px; }
.hidden { display: none; }
""".replace("FONTS", FONTS)

# Filter by words (title, source, topic labels), open/close all, count what is shown.
_SCRIPT = """
(function () {
  var q = document.getElementById('q'), pages = document.querySelectorAll('details.page');
  var count = document.getElementById('count');
  function apply() {
    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    pages.forEach(function (p) {
      var hay = p.getAttribute('data-find');
      var ok = words.every(function (w) { return hay.indexOf(w) >= 0; });
      p.classList.toggle('hidden', !ok);
      if (ok) shown++;
    });
    count.textContent = shown + ' / ' + pages.length + ' pages shown';
  }
  q.addEventListener('input', apply);
  pages.forEach(function (p) {
    p.addEventListener('toggle', function () {
      var later = p.querySelector('script.later');
      if (p.open && later) { p.querySelector('.pbody').innerHTML = later.textContent; later.remove(); }
    });
  });
  function all(open) { pages.forEach(function (p) { if (!p.classList.contains('hidden')) p.open = open; }); }
  document.getElementById('open-all').onclick = function () { all(true); };
  document.getElementById('close-all').onclick = function () { all(false); };
  apply();
})();
"""


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha:.3f})"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


class ReviewSink:
    """Write results as a review page to ``path`` (atomically) or standard output:
    ``with ReviewSink(path, topics) as sink: sink.write(result)``.

    ``topics``: the model's topic labels (their colours, in this order); ``positive``: the
    block label that means body."""

    def __init__(
        self,
        path: str | None,
        topics: Sequence[str],
        positive: str = "body",
        model: str = "",
    ) -> None:
        self.path = path
        self.topics = list(topics)
        self.positive = positive
        self.model = model
        self.colours = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(self.topics)}
        self._cm = atomic_open(path) if path and path != "-" else None
        self._fh: IO[str] | None = None
        self.pages = 0
        self.failed = 0

    def __enter__(self) -> ReviewSink:
        self._fh = self._cm.__enter__() if self._cm else sys.stdout
        self._fh.write(self._head())
        return self

    def _colour(self, label: str) -> str:
        return self.colours.get(label) or PALETTE[len(self.colours) % len(PALETTE)]

    def _head(self) -> str:
        legend = [
            '<span><i class="sw" style="background:var(--body)"></i>body block</span>',
            '<span><i class="sw" style="background:var(--bp)"></i>boilerplate block</span>',
            "<span>shade: p_body (0 → 1)</span>",
        ]
        legend += [
            f'<span><i class="sw" style="background:{self._colour(t)}"></i>{_esc(t)}</span>'
            for t in self.topics
        ]
        model = f"model {_esc(self.model)} · " if self.model else ""
        return (
            '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>honbun review</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n"
            '<header class="top"><h1>honbun review</h1>'
            f'<span class="meta">{model}blocks shaded by body probability, body sentences '
            "highlighted by topic</span>\n"
            f'<div class="legend">{"".join(legend)}</div>\n'
            '<div class="tools"><input id="q" type="search" '
            'placeholder="filter: title, source, topic…" aria-label="filter pages"> '
            '<button id="open-all" type="button">open all</button> '
            '<button id="close-all" type="button">close all</button> '
            '<span id="count"></span></div>\n</header>\n<main id="pages">\n'
        )

    def write(self, res: Result) -> None:
        assert self._fh is not None
        self.pages += 1
        self._fh.write(self._page(res, self.pages))

    def _page(self, res: Result, n: int) -> str:
        title = res.get("title") or res.get("doc_id") or "(untitled)"
        source = res.get("source", "")
        url = res.get("url")
        date = res.get("date")
        where = _esc(source) + (f" · {_esc(url)}" if url and url != source else "")
        where += f" · {_esc(date)}" if date else ""
        opened = " open" if n <= OPEN_PAGES else ""
        if "error" in res:
            self.failed += 1
            find = _esc(f"{title} {source} error").lower()
            return (
                f'<details class="page failed" id="page-{n}" data-find="{find}"{opened}>'
                f'<summary><span class="num">{n}</span><span class="ptitle">'
                f'{_esc(res.get("doc_id", ""))}: failed</span><span class="src">{where}</span>'
                f'</summary><div class="pbody"><p class="err">{_esc(res["error"])}</p>'
                "</div></details>\n"
            )
        labels = res.get("labels", [])
        blocks = res.get("blocks", [])
        n_body = sum(1 for b in blocks if b["label"] == self.positive)
        chips = "".join(
            f'<span class="chip" style="background:{self._colour(t)}">{_esc(t)}</span>'
            for t in labels
        )
        find = _esc(f"{title} {source} {url or ''} {' '.join(labels)}").lower()
        head = (
            f'<details class="page" id="page-{n}" data-find="{find}"{opened}>'
            f'<summary><span class="num">{n}</span><span class="ptitle">{_esc(title)}</span>'
            f'{chips}<span class="counts">{n_body} body / {len(blocks) - n_body} '
            f'boilerplate blocks</span><span class="src">{where}</span></summary>'
            '<div class="pbody">'
        )
        parts = [self._topic_table(res)]
        sentences: dict[int, list[dict[str, Any]]] = {}
        for s in res.get("sentences", []):
            sentences.setdefault(s["block"], []).append(s)
        run: list[str] = []  # consecutive boilerplate blocks
        roles: dict[str, None] = {}
        for b in [*blocks, None]:
            if b is not None and b["label"] != self.positive:
                run.append(self._block(b, []))
                roles[b["role"]] = None
                continue
            if len(run) >= FOLD_RUN:
                parts.append(
                    f'<details class="run"><summary>{len(run)} boilerplate blocks: '
                    f"{_esc(', '.join(roles))}</summary>{''.join(run)}</details>"
                )
            else:
                parts.extend(run)
            run, roles = [], {}
            if b is not None:
                parts.append(self._block(b, sentences.get(b["index"], [])))
        inner = "\n".join(parts)
        if opened:
            return f"{head}{inner}</div></details>\n"
        # A collapsed page's blocks wait as raw text, which the browser does not parse
        # into elements, until the page is opened (the script moves them in): a review of
        # 1,000 pages opens in the time its first pages take. Escaped text holds no "<".
        return f'{head}</div><script type="text/html" class="later">{inner}</script></details>\n'

    def _topic_table(self, res: Result) -> str:
        topics = res.get("topics", {})
        if not topics:
            return ""
        tagged = dict.fromkeys(topics, 0)
        for s in res.get("sentences", []):
            for label in s["labels"]:
                tagged[label] = tagged.get(label, 0) + 1
        rows = []
        for t, p in sorted(topics.items(), key=lambda kv: -kv[1]):
            on = t in res.get("labels", [])
            sw = f'<i class="sw" style="background:{self._colour(t)}"></i>'
            rows.append(
                f'<tr class="{"on" if on else "off"}"><td>{sw}{_esc(t)}</td>'
                f'<td class="num">{p:.2f}</td><td>{"yes" if on else "no"}</td>'
                f'<td class="num">{tagged.get(t, 0)}</td></tr>'
            )
        return (
            '<table class="topics"><thead><tr><th>topic</th><th>p</th><th>tagged</th>'
            "<th>sentences</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )

    def _block(self, b: dict[str, Any], sentences: list[dict[str, Any]]) -> str:
        body = b["label"] == self.positive
        p = float(b["p_body"])
        rule = f' · <span class="rule">rule: {_esc(b["rule"])}</span>' if b.get("rule") else ""
        # --p drives the shade and the bar (CSS): markup per block is most of a big page
        return (
            f'<div class="block {"body" if body else "boilerplate"}" style="--p:{p:.2f}">'
            f'<div class="bmeta"><span class="lab">{_esc(b["label"])}</span> · '
            f'{_esc(b["role"])} · p_body {p:.2f}<span class="bar"><i></i></span>{rule}</div>'
            f'<p class="text">{self._text(b, sentences)}</p></div>'
        )

    def _text(self, b: dict[str, Any], sentences: list[dict[str, Any]]) -> str:
        """The block's text, its sentences in spans; tagged ones highlighted and labelled."""
        text, base = b["text"], b["start"]
        out, pos = [], 0
        for s in sorted(sentences, key=lambda s: s["start"]):
            start, end = s["start"] - base, s["end"] - base
            if not 0 <= start <= end <= len(text) or start < pos:
                continue  # offsets that do not fit this block: the plain text stays
            out.append(_esc(text[pos:start]))
            out.append(self._sentence(text[start:end], s))
            pos = end
        out.append(_esc(text[pos:]))
        return "".join(out)

    def _sentence(self, text: str, s: dict[str, Any]) -> str:
        labels = s.get("labels", [])
        if not labels:
            return f'<span class="s">{_esc(text)}</span>'
        colour = self._colour(labels[0])
        tags = []
        for label in labels:
            p = s.get("topics", {}).get(label, 0.0)
            tags.append(
                f'<span class="tag" style="background:{self._colour(label)}">'
                f"{_esc(label)} {p:.2f}</span>"
            )
            terms = (s.get("explanation") or {}).get(label)
            if terms:
                words = ", ".join(f"{_esc(t)} {w:+.2f}" for t, w in terms)
                tags.append(f'<span class="why" title="terms behind {_esc(label)}">{words}</span>')
        style = f"background:{_rgba(colour, 0.16)}; box-shadow: inset 0 -2px {colour}"
        return (
            f'<span class="s tagged" data-labels="{_esc(" ".join(labels))}" style="{style}">'
            f"{_esc(text)}</span>{''.join(tags)}"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cm is not None:
            finish(self._cm, self._footer, exc_type, exc, tb)
        elif exc_type is None:
            self._footer()

    def _footer(self) -> None:
        assert self._fh is not None
        failed = f" ({self.failed} failed)" if self.failed else ""
        self._fh.write(
            f"</main>\n<footer>{self.pages} page(s){failed} · written by honbun</footer>\n"
            f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
        )
        self._fh.flush()
