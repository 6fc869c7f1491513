"""mkdocs hook: links to repository files outside ``docs/``, on the site.

README.md, BENCHMARKS.md and docs/*.md link to files by their place in the repository (right on a
code host, outside the site's ``docs_dir``). Before mkdocs checks the links of a page:

- a link to README.md or BENCHMARKS.md goes to the page that includes that file;
- a link to a module under ``src/`` goes to its entry in the API reference where there is one
  (an optional cross-reference: plain text where the module is not documented);
- a link to another file of the repository becomes its text (the site does not carry the file).

A link to a file that does not exist is left alone, so that ``mkdocs build --strict`` reports it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PAGES = {"README.md": "index.md", "BENCHMARKS.md": "measurements.md"}
"""Repository files (from the root) included as pages of the site (from docs_dir)."""

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")


def _rewrite(match: re.Match, page_dir: Path, docs_dir: Path, root: Path) -> str:
    target = match["target"]
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
        return match[0]
    path, _, fragment = target.partition("#")
    resolved = Path(os.path.normpath(page_dir / path))
    if resolved == docs_dir or docs_dir in resolved.parents or root not in resolved.parents:
        return match[0]
    if not resolved.exists():
        return match[0]  # broken: mkdocs reports it
    relative = resolved.relative_to(root).as_posix()
    if relative in PAGES:
        page = Path(os.path.relpath(docs_dir / PAGES[relative], page_dir)).as_posix()
        return f"[{match['text']}]({page}{'#' + fragment if fragment else ''})"
    if relative.startswith("src/") and relative.endswith(".py"):
        module = relative[len("src/") : -len(".py")].replace("/", ".").removesuffix(".__init__")
        return f'<autoref identifier="{module}" optional>{match["text"]}</autoref>'
    return match["text"]


def on_page_markdown(markdown, page, config, files):
    docs_dir = Path(config["docs_dir"]).resolve()
    root = Path(config["config_file_path"]).resolve().parent
    page_dir = Path(page.file.abs_src_path).resolve().parent
    lines, fence = [], None
    for line in markdown.split("\n"):
        opened = _FENCE.match(line.lstrip())
        if fence is None and opened:
            fence = opened[1][0] * len(opened[1])
        elif fence is not None and line.lstrip().startswith(fence):
            fence = None
        elif fence is None:
            line = _LINK.sub(lambda m: _rewrite(m, page_dir, docs_dir, root), line)
        lines.append(line)
    return "\n".join(lines)
