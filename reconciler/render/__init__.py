"""Views derived from a plan and from an apply report: text, markdown and JSON.

Renderers are pure functions of the data they are given (no I/O, no terminal probe,
no clock), so every view is deterministic and testable against golden files.
"""

from __future__ import annotations

from reconciler.render.json import render_plan_json, render_report_json
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan_text, render_report_text

__all__ = [
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
    "render_report_json",
    "render_report_text",
]
