"""The one Jinja environment of the web app: templates from the package, autoescaped, and
the filters that format numbers in the practice's currency and locale."""

from __future__ import annotations

from importlib.resources import files

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = str(files("practicelake.web") / "templates")
STATIC_DIR = str(files("practicelake.web") / "static")

templates = Jinja2Templates(directory=TEMPLATES_DIR)  # autoescapes .html
