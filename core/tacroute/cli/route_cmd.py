"""``tacroute route`` (one decision) and ``tacroute routing`` (rules and scenarios)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tacroute.cli._common import config_option, echo_json, get_config, task_from_options, task_options
from tacroute.cli._plain import TacrouteCommand
from tacroute.routing import ModelRouter, router_with_history

if TYPE_CHECKING:
    from pathlib import Path

    from tacroute.types import Decision

def _target(provider: str, model: str) -> str:
    return f"{provider}/{model}"


def _print_decision(d: Decision) -> None:
    if not d.available:
        click.secho(f"warning: no available provider for this task: {d.reason}", fg="yellow", err=True)
        click.echo(f"{_target(d.provider, d.model)}  (unavailable)")
    else:
        click.echo(_target(d.provider, d.model))
    click.echo(f"  rule:      {d.rule or '(default)'}")
    click.echo(f"  why:       {d.reason}")
    if d.fallbacks:
        click.echo("  fallbacks: " + ", ".join(
            f"{_target(c.provider, c.model)} ({c.rule or 'default'})" for c in d.fallbacks))
    for c in d.skipped:
        click.echo(f"  skipped:   {_target(c.provider, c.model)} ({c.rule or 'default'}): {c.reason}")


@click.command(cls=TacrouteCommand)
@task_options
@click.option("--explain", is_flag=True, help="Show every rule, in order, with each condition's result.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def route(priority: str | None, labels: tuple[str, ...], retry_count: int | None, hour: int | None,
          attrs: tuple[str, ...], explain: bool, as_json: bool, config_path: Path | None) -> None:
    """Which provider and model should do a task, and why."""
    router = router_with_history(get_config(config_path))
    task = task_from_options(priority, labels, retry_count, hour, attrs)
    decision = router.route(task)
    if as_json:
        data = decision.as_dict()
        data["task"] = task
        if explain:
            data["explain"] = [{**_trace_dict(t), "skip": _skip(router, t)} for t in router.explain(task)]
            if hasattr(router, "layers"):  # a config with [projects]/[users] (tacroute.preferences)
                data["layers"] = router.layers(task, decision)
        echo_json(data)
        return
    if explain:
        click.echo(f"task: {task}")
        click.echo(f"routing enabled: {router.config.routing_enabled}")
        for t in router.explain(task):
            mark = "MATCH" if t.matched else ("off  " if not t.enabled else "-    ")
            avail = "" if t.available else f"  [unavailable: {t.reason}]"
            skip = _skip(router, t) if t.matched else None
            avail += f"  [skipped: {skip}]" if skip else ""
            target = (f"{t.strategy} of {', '.join(t.targets)}" if t.targets
                      else _target(t.provider, t.model))
            click.echo(f"  {mark} [{t.priority}] {t.name} -> {target}{avail}")
            for c in t.conditions:
                click.echo(f"          {'pass' if c.passed else 'fail'}  {c.name} = {c.value!r}")
        for step in router.layers(task, decision) if hasattr(router, "layers") else ():
            click.echo(f"  {step['layer'] + ':':<13}{step['what']}")
        click.echo("")
    _print_decision(decision)


def _skip(router: Any, t: Any) -> str | None:
    """Why the gate (cooldown, rate limit) would skip a rule's candidate now."""
    if router.gate is None or not t.available:
        return None
    why: str | None = router.gate.skip_reason(t.provider, t.model)
    return why


def _trace_dict(t: Any) -> dict[str, Any]:
    return {"rule": t.name, "priority": t.priority, "enabled": t.enabled, "provider": t.provider,
            "model": t.model, "strategy": t.strategy, "targets": list(t.targets),
            "matched": t.matched, "available": t.available, "reason": t.reason,
            "conditions": [{"name": c.name, "value": c.value, "passed": c.passed} for c in t.conditions]}


@click.command(cls=TacrouteCommand)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def routing(as_json: bool, config_path: Path | None) -> None:
    """The routing rules in priority order, and the seed's scenario tests."""
    config = get_config(config_path)
    from tacroute.routing.scenarios import route_scenarios  # `routing` only, not every `route`

    router = ModelRouter(config)
    results = route_scenarios(router)
    if as_json:
        echo_json({
            "config": str(config.path),
            "enabled": config.routing_enabled,
            "default": {"provider": config.default_provider, "model": config.default_model},
            "rules": [{"name": r.name, "priority": r.priority, "enabled": r.enabled,
                       "conditions": dict(r.conditions), "provider": r.provider, "model": r.model,
                       **({"strategy": r.strategy, "targets": [t._asdict() for t in r.targets]}
                          if r.targets else {})}
                      for r in config.rules_by_priority()],
            "scenarios": [{"name": n, "task": t, "decision": d.as_dict()} for n, t, d in results],
        })
        return
    click.echo(f"Config: {config.path}")
    click.echo(f"Router enabled: {config.routing_enabled}")
    click.echo(f"Default: {_target(config.default_provider, config.default_model)}")
    click.echo("")
    click.echo("Routing rules (priority order):")
    for r in config.rules_by_priority():
        off = "" if r.enabled else "  (disabled)"
        click.echo(f"  [{r.priority}] {r.name}{off}")
        click.echo(f"      Conditions: {dict(r.conditions)}")
        if r.targets:
            click.echo(f"      Targets ({r.strategy}): "
                       + ", ".join(_target(t.provider, t.model) for t in r.targets))
        else:
            click.echo(f"      Target: {_target(r.provider, r.model)}")
    click.echo("")
    click.echo("Routing decision tests:")
    for name, task, d in results:
        click.echo(f"  Scenario: {name}")
        click.echo(f"    Attrs: {task}")
        flag = "" if d.available else "  (unavailable!)"
        click.echo(f"    -> Routed to: {d.provider} / {d.model}{flag}   [{d.rule or 'default'}]")
