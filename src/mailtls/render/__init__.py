"""Pure renderers: report values in, strings out. Printing and files belong to the caller."""

from __future__ import annotations

from mailtls.render.jsonout import JsonValue, render_json, to_jsonable
from mailtls.render.text import render_text

__all__ = ["JsonValue", "render_json", "render_text", "to_jsonable"]
