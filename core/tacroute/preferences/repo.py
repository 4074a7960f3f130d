"""A repository's ``.tacroute.toml``: project preferences that may only narrow the coordinator's.

With ``[policy] repo_config = true``, a ``.tacroute.toml`` in the run's
working directory may hold ``[projects."NAME"]`` tables. Each is merged into
the coordinator's entry for that name (or the entry that would govern it):

- ``deny_providers`` adds to the denied providers; ``allow_providers``
  narrows the allowed ones (it can never allow a denied provider);
- ``rules`` come before the entry's own rules; ``default_provider`` /
  ``default_model`` replace the entry's (a denied default is an error);
- ``budget`` amounts may only be lower than the coordinator's (a budget the
  coordinator did not set may be added).

Anything else (another table, ``prefer_providers``, a higher budget, a
provider the coordinator denies) is an error naming the file and key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tacroute.config.checker import Checker
from tacroute.errors import ConfigError

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.preferences.model import Entry, Preferences

__all__ = ["REPO_FILE", "with_repo_config"]

REPO_FILE = ".tacroute.toml"


def with_repo_config(config: Config, prefs: Preferences, cwd: Path | None, registry: Any) -> Preferences:
    """``prefs`` narrowed by ``cwd``'s ``.tacroute.toml`` (unchanged when there is none)."""
    path = (cwd or Path.cwd()) / REPO_FILE
    if not path.is_file():
        return prefs
    try:
        text = path.read_text(encoding="utf-8")
        doc = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        raise ConfigError(f"cannot read the repository preferences: {exc}", path) from None
    from tacroute.config.schema import SectionContext
    from tacroute.preferences.check import _setting, check_entry
    from tacroute.preferences.model import EntrySet, Preferences

    chk = Checker()
    for key in doc:
        if key != "projects":
            chk.add([key], "a repository's .tacroute.toml may only hold [projects.\"NAME\"] tables")
    projects = doc.get("projects", {})
    if not isinstance(projects, dict):
        chk.add(["projects"], "must be a table of project names")
        projects = {}
    s = _setting(SectionContext(path, path.parent, {**config.raw, "projects": projects}, registry))
    merged = {e.pattern: e for e in prefs.projects}
    for name, table in projects.items():
        if isinstance(table, dict) and "prefer_providers" in table:
            chk.add(["projects", name, "prefer_providers"], "cannot be set by a repository")
        local = check_entry("project", name, table, ["projects", name], chk, s, source=str(path))
        if local is not None:
            base = merged.get(name) or prefs.projects.match(name)
            merged[name] = _narrow(base, local, ["projects", name], chk)
    chk.raise_issues(text, path)
    return Preferences(EntrySet(merged), prefs.users, prefs.repo_config)


def _narrow(base: Entry | None, local: Entry, path: list[str | int], chk: Checker) -> Entry:
    if base is None:
        return local
    for p in sorted(local.allow or ()):
        if not base.allows(p):
            chk.add([*path, "allow_providers"], f"cannot allow provider {p!r}: the coordinator's "
                    f"{base.label} does not")
    allow = base.allow if local.allow is None else (local.allow if base.allow is None
                                                    else base.allow & local.allow)
    deny = base.deny | local.deny
    for used, key in ((local.default_provider, "default_provider"),
                      (local.budget.to[0] if local.budget and local.budget.to else None, "budget")):
        if used is not None and (used in deny or (allow is not None and used not in allow)):
            chk.add([*path, key], f"uses provider {used!r}, which the coordinator's {base.label} refuses")
    budget = base.budget
    if local.budget is not None:
        if base.budget is not None:
            mine = {lim.period: lim.usd for lim in base.budget.limits}
            for lim in local.budget.limits:
                if lim.usd > mine.get(lim.period, float("inf")):
                    chk.add([*path, "budget"], f"cannot raise the {lim.period}ly budget: "
                            f"{lim.usd:g} > the coordinator's {mine[lim.period]:g}")
            if local.budget.shared != base.budget.shared:
                chk.add([*path, "budget", "shared"], "cannot change whether the budget is shared")
            kept = {lim.period: lim for lim in base.budget.limits}
            kept.update({lim.period: lim for lim in local.budget.limits})
            budget = local.budget._replace(limits=tuple(kept.values()),
                                           reserve_usd=max(local.budget.reserve_usd, base.budget.reserve_usd))
        else:
            budget = local.budget
    pooled = base.budget is not None and base.budget.shared  # the pool keeps its name
    return base._replace(
        pattern=base.pattern if pooled else local.pattern, deny=deny, allow=allow,
        rules=(*local.rules, *base.rules), budget=budget,
        default_provider=local.default_provider or base.default_provider,
        default_model=local.default_model or base.default_model, source=local.source)
