"""Sources of a grounded reply (Google Search), as numbered citations every front end can show."""

from __future__ import annotations

from typing import Any


def sources_markdown(extras: dict[str, Any] | None) -> str:
    """Numbered sources with titles and URLs, then the searches the model ran; "" when there are none."""
    grounding = (extras or {}).get("grounding") or {}
    lines: list[str] = []
    chunks = [
        chunk.get("web") or chunk.get("retrieved_context") or {} for chunk in grounding.get("grounding_chunks") or []
    ]
    sources = [(c.get("title") or c.get("uri") or "source", c.get("uri") or "") for c in chunks if c]
    if sources:
        lines.append("Sources:\n")
        lines += [
            f"{number}. [{title}]({uri})" if uri else f"{number}. {title}"
            for number, (title, uri) in enumerate(sources, 1)
        ]
    queries = grounding.get("web_search_queries") or []
    if queries:
        if lines:
            lines.append("")
        lines.append("Searched for: " + ", ".join(f"“{query}”" for query in queries))
    return "\n".join(lines)
