"""The Starlette application: pages, JSON API, static files, behind the guard."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from tacroute_ui.api import api_routes
from tacroute_ui.pages import page_routes
from tacroute_ui.security import Guard
from tacroute_ui.state import AppState

__all__ = ["build_app"]


def build_app(state: AppState, *, token: str, host: str, port: int) -> Guard:
    """The ASGI app for ``state``'s config, answering only at ``host:port`` with ``token``."""
    static = StaticFiles(directory=Path(__file__).with_name("static"))
    app = Starlette(routes=[*page_routes(state), *api_routes(state), Mount("/static", static)])
    return Guard(app, token=token, host=host, port=port)
