"""The HTML pages (Jinja2, autoescaped) and the fragments the pages' script asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tacroute_ui import charts, core
from tacroute_ui.api import body_of, error_info, providers, route_task, task_from
from tacroute_ui.budgets import budget_states
from tacroute_ui.state import AppState
from tacroute_ui.stats import recent_runs
from tacroute_ui.whatif import run_whatif

__all__ = ["page_routes"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def _usd(x: float | None) -> str:
    if x is None:
        return "-"
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


_ENV.filters["usd"] = _usd


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _ENV.get_template(name).render(csrf=request.scope.get("state", {}).get("csrf", ""),
                                          page=name.removesuffix(".html"), **ctx)
    return HTMLResponse(html, status_code=status)


def _charts(stats: dict[str, Any]) -> list[Any]:
    if not stats.get("exists"):
        return []
    by_model = stats["by_model"]
    return [
        charts.stacked_days(f"Cost per day per provider/model (last {stats['window_days']} days, UTC)",
                            stats["days"], stats["cost_per_day"]),
        charts.hbars("Success rate per provider/model", [(r["key"], r["success_rate"]) for r in by_model],
                     lambda v: f"{100 * v:.1f}%", top=1.0),
        charts.hbars("p95 duration per provider/model",
                     [(r["key"], r["p95_duration_s"]) for r in by_model], lambda v: f"{v:,.1f} s"),
        charts.hbars("Success rate per provider",
                     [(r["key"], r["success_rate"]) for r in stats["by_provider"]],
                     lambda v: f"{100 * v:.1f}%", top=1.0),
    ]


def page_routes(state: AppState) -> list[Route]:
    async def page(request: Request, name: str, work: Any) -> Response:
        try:
            ctx = await run_in_threadpool(work)
        except core.TacrouteError as exc:
            return render(request, "error.html", 422, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - no traceback reaches the browser
            return render(request, "error.html", 500, message=f"internal error: {type(exc).__name__}: {exc}")
        return render(request, name, **ctx)

    async def index(request: Request) -> Response:
        return RedirectResponse("/rules", 303)

    async def rules(request: Request) -> Response:
        return await page(request, "rules.html", lambda: {"data": state.rules()})

    async def try_task(request: Request) -> Response:
        return await page(request, "try.html", lambda: {"data": state.rules()})

    async def whatif(request: Request) -> Response:
        return await page(request, "whatif.html", lambda: {"data": state.rules()})

    async def providers_page(request: Request) -> Response:
        check = request.query_params.get("check") == "1"
        return await page(request, "providers.html",
                          lambda: {"data": providers(state, check), "check": check})

    async def history(request: Request) -> Response:
        def work() -> dict[str, Any]:
            cache = state.stats()
            stats = cache.get()
            return {"stats": stats, "charts": _charts(stats), "runs": recent_runs(cache.path, 50),
                    "budgets": budget_states(state.snapshot().config)}
        return await page(request, "history.html", work)

    async def fragment(request: Request, name: str, work: Any) -> Response:
        try:
            body = await body_of(request)
            ctx = await run_in_threadpool(work, body)
        except Exception as exc:  # noqa: BLE001 - shown on the page, never a traceback
            status, data = error_info(exc)
            return render(request, "_error.html", status, e=data)
        return render(request, name, **ctx)

    async def route_fragment(request: Request) -> Response:
        return await fragment(request, "_route.html", lambda b: {"r": route_task(state, task_from(b))})

    async def whatif_fragment(request: Request) -> Response:
        return await fragment(request, "_whatif.html", lambda b: {"w": run_whatif(state, b)})

    return [
        Route("/", index, methods=["GET"]),
        Route("/rules", rules, methods=["GET"]),
        Route("/try", try_task, methods=["GET"]),
        Route("/whatif", whatif, methods=["GET"]),
        Route("/providers", providers_page, methods=["GET"]),
        Route("/history", history, methods=["GET"]),
        Route("/ui/route", route_fragment, methods=["POST"]),
        Route("/ui/whatif", whatif_fragment, methods=["POST"]),
    ]
