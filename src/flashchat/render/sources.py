"""Sources of a grounded reply (Google Search), as numbered citations every front end can show.

Titles, URLs and search queries come from the server and end up rendered as Markdown, so each is made
terminal-safe, one line and bounded, and Markdown-inert: a title cannot open a link, a code span or an HTML
tag, and only an http(s) address becomes a link (a `javascript:` or `file:` one is shown as text, and a
click in the TUI never opens it).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from flashchat.render.safe_text import NAME_CHARS, one_line

# Longer than any real source address (Google's grounding redirects are about 250 characters); a longer one
# is shown as text rather than cut into a link that goes somewhere else.
URL_CHARS = 2_000
# What can start Markdown syntax inside a list item's line: links and images (`[`, `]`, `(`, `)`), code
# spans, emphasis and strikethrough, autolinks and HTML, an entity (`&amp;`), and the backslash itself.
# (`#`, `|` and `!` do nothing there once `[` is escaped, and a title like "Weather | Tokyo" stays readable.)
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]()<>~]|&(?=#?\w+;))")
# Characters a link destination must not hold raw (Markdown would end the link at them, or they are not
# URL characters at all); percent-encoding them keeps the address the same.
_URL_SAFE_CHARS = ":/?#[]@!$&'*+,;=%~-._"


def markdown_text(text: str, limit: int = NAME_CHARS) -> str:
    """A server string as inert Markdown inline text: shown as is, one line, at most `limit` characters."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", one_line(text, limit))


def link_target(url: str) -> str | None:
    """`url` as a Markdown link destination, or None when it must not be a link (not http or https, no host,
    or too long to show whole)."""
    url = url.strip()
    if len(url) > URL_CHARS:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE_CHARS).replace("(", "%28").replace(")", "%29")


def _source_line(number: int, title: str, uri: str) -> str:
    target = link_target(uri) if uri else None
    label = markdown_text(title or uri or "source")
    if target is not None:
        return f"{number}. [{label}]({target})"
    if uri and title:
        return f"{number}. {label} ({markdown_text(uri)})"  # an address that is not a link, shown as text
    return f"{number}. {label}"


def sources_markdown(extras: dict[str, Any] | None) -> str:
    """Numbered sources with titles and URLs (numbered as the reply's citation markers: a chunk's position),
    the searches the model ran, then the URLs it fetched with their status; "" when there are none."""
    grounding = (extras or {}).get("grounding") or {}
    lines: list[str] = []
    chunks = [
        chunk.get("web") or chunk.get("retrieved_context") or {} for chunk in grounding.get("grounding_chunks") or []
    ]
    sources = [(number, str(c.get("title") or ""), str(c.get("uri") or "")) for number, c in enumerate(chunks, 1) if c]
    if sources:
        lines.append("Sources:\n")
        lines += [_source_line(number, title, uri) for number, title, uri in sources]
    queries = grounding.get("web_search_queries") or []
    if queries:
        if lines:
            lines.append("")
        lines.append("Searched for: " + ", ".join(f"“{markdown_text(str(query))}”" for query in queries))
    fetched = url_context_line((extras or {}).get("url_context"))
    if fetched:
        if lines:
            lines.append("")
        lines.append(fetched)
    return "\n".join(lines)


def _retrieval_status(status: object) -> str:
    """`URL_RETRIEVAL_STATUS_SUCCESS` -> "fetched", `..._UNSAFE` -> "unsafe", and so on."""
    name = str(status or "").removeprefix("URL_RETRIEVAL_STATUS_").lower().replace("_", " ")
    return {"success": "fetched", "": "status unknown"}.get(name, name)


def url_context_line(url_context: Any) -> str:
    """`Fetched: <url> (fetched), <url> (error)`: which URLs the URL-context tool read, as inert Markdown."""
    if not isinstance(url_context, dict):
        return ""
    entries = url_context.get("url_metadata") or url_context.get("urlMetadata")
    if not isinstance(entries, list):
        return ""
    shown = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        url = str(entry.get("retrieved_url") or entry.get("retrievedUrl") or "")
        status = entry.get("url_retrieval_status") or entry.get("urlRetrievalStatus")
        shown.append(f"{markdown_text(url, URL_CHARS)} ({markdown_text(_retrieval_status(status))})")
    return "Fetched: " + ", ".join(shown) if shown else ""
