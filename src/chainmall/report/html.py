"""Render report sections as one self-contained HTML page: inline CSS and PNGs, no JavaScript."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import pandas as pd

from chainmall.report.sections import Section

__all__ = ["render_html"]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #1d2430; background: #ffffff; line-height: 1.45; }
h1 { border-bottom: 3px solid #2f6fb3; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; color: #2f6fb3; }
nav ul { columns: 2; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #c9d3df; padding: .25rem .6rem; text-align: right; }
th { background: #eef3f9; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #e3e8ef; }
figcaption, .note { color: #5a6575; font-size: .9rem; }
"""


def _table(caption: str, frame: pd.DataFrame) -> str:
    body = frame.to_html(index=False, border=0, float_format=lambda v: f"{v:,.3f}", na_rep="–")
    return f"<h3>{html.escape(caption)}</h3>\n{body}"


def _figure(alt: str, image: bytes) -> str:
    data = base64.b64encode(image).decode("ascii")
    text = html.escape(alt)
    return (
        f'<figure><img alt="{text}" src="data:image/png;base64,{data}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


def _section(section: Section) -> str:
    parts = [f'<section id="{section.key}">', f"<h2>{html.escape(section.title)}</h2>"]
    parts.append(f"<p>{html.escape(section.intro)}</p>")
    parts.extend(_figure(alt, image) for alt, image in section.figures)
    parts.extend(_table(caption, frame) for caption, frame in section.tables)
    parts.append("</section>")
    return "\n".join(parts)


def render_html(
    title: str,
    sections: Sequence[Section],
    omitted: Sequence[tuple[str, str]],
    footer: str,
) -> str:
    """The whole page: a table of contents, every section, and the omitted ones with reasons."""
    toc = "".join(f'<li><a href="#{s.key}">{html.escape(s.title)}</a></li>' for s in sections)
    missing = ""
    if omitted:
        items = "".join(
            f"<li>{html.escape(name)}: {html.escape(reason)}</li>" for name, reason in omitted
        )
        missing = f'<p class="note">Sections not in this report:</p><ul class="note">{items}</ul>'
    body = "\n".join(_section(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n<nav><ul>{toc}</ul></nav>\n{missing}\n"
        f'{body}\n<p class="note">{html.escape(footer)}</p></body></html>\n'
    )
