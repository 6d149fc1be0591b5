"""What a provider keeps of the text an error response carries, before it goes into a `ChatError`.

The server is not trusted (SECURITY.md): an error body may be a proxy's 5 MB HTML page, a log dump, or echo
the API key that was sent. So the message keeps a bounded excerpt (an HTML page: its title and first heading),
never the key. Making it safe for a terminal is the front ends' job (render/safe_text.py), on every path.
"""

from __future__ import annotations

import html
import re

from flashchat.config.settings import mask_secret

# Enough for any real API error message; the rest of a long body is left out, with a note of how much.
SERVER_TEXT_CHARS = 400
# Keys shorter than this are not masked inside text: a 3-character "key" would mask ordinary words.
_MASKABLE_KEY_CHARS = 8

_TAGS = re.compile(r"<[^>]{0,2000}>")
_TITLE = re.compile(r"<title[^>]{0,200}>(.{0,2000}?)</title", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h1[^>]{0,200}>(.{0,2000}?)</h1", re.IGNORECASE | re.DOTALL)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in head


def server_text(text: str, api_key: str = "", limit: int = SERVER_TEXT_CHARS) -> str:
    """`text` from an error response as a bounded excerpt: an HTML page becomes its title and heading, runs of
    whitespace one space, the key masked, at most `limit` characters then `… (N more characters)`."""
    if api_key and len(api_key) >= _MASKABLE_KEY_CHARS:
        text = text.replace(api_key, mask_secret(api_key))
    text = text[: 64 * limit]  # nothing below needs more, whatever the server sent
    if looks_like_html(text):
        found = [_TAGS.sub("", match[1]) for match in (_TITLE.search(text), _HEADING.search(text)) if match]
        pieces = list(dict.fromkeys(html.unescape(piece).strip() for piece in found if piece.strip()))
        text = "an HTML page" + (f" ({' / '.join(pieces)})" if pieces else "") + ", not an API response."
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else f"{folded[:limit].rstrip()}… (more left out)"


def redirect_message(host: str, status: int, location: str) -> str:
    """A redirect from an API endpoint means the address is wrong (or a gateway is misconfigured)."""
    target = server_text(location, limit=120) or "nowhere"
    return (
        f"{host} answered with a redirect ({status} to {target}) instead of the API: flashchat does not follow "
        "redirects; check base_url (a redirect loop or a login page of a proxy answers like this)."
    )


# Both Gemini APIs (generateContent and Interactions) reject a key the same way, and the fix is the same.
GEMINI_KEY_REJECTED = (
    "The API key was rejected: check GEMINI_API_KEY (or `flashchat config set api_key ...`); "
    "keys come from https://aistudio.google.com/apikey."
)
