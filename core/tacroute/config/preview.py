"""A loaded config with one rule edited, without loading the file's text again (a what-if's preview).

Loading a 1,000-rule file takes ~50 ms (tomllib, then every rule's checks);
a what-if asks about one edited rule of a config already loaded. Here the
edited document is the loaded one with its rule tables replaced
(:func:`tacroute.config.edit.edited_tables` makes them as the editor means
the edit); only the new or changed rule is checked and compiled (by the
loader's own :func:`~tacroute.config.rules.load_rules`), the other rules are
the loaded ones (renumbered after a removal), and the sections are checked
again on the new document (a section may read the rules). Anything the
loader would report about the edit (an error or a warning on the rule, an
error anywhere) gives None: the caller then loads the edited text as before,
for the loader's messages. The result's ``warnings`` are the loaded config's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tacroute.clock import HourClock
from tacroute.config.checker import Checker
from tacroute.config.model import Config, RuleConfig
from tacroute.config.rules import load_rules
from tacroute.config.schema import SectionContext
from tacroute.config.sections import all_sections, check_sections
from tacroute.config.targets import check_cheapest_prices
from tacroute.config.textedit import doc_rules, with_rules
from tacroute.types import CompileContext

__all__ = ["with_rule_tables"]


def with_rule_tables(config: Config, tables: list[Mapping[str, Any]], changed: int | None,
                     registry: Any = None) -> Config | None:
    """``config`` with ``tables`` as its ``routing.rules``: each the very table object of a loaded
    rule, except ``tables[changed]`` (new or changed); None when that needs the full loader."""
    if registry is None:
        from tacroute.plugins import get_registry

        registry = get_registry()
    loaded = doc_rules(config.raw)
    if loaded is None or len(loaded) != len(config.rules) or (changed is None and not tables):
        return None
    chk = Checker()
    new: RuleConfig | None = None
    if changed is not None:
        table = tables[changed]
        name = table.get("name")
        if any(t.get("name") == name for i, t in enumerate(tables) if i != changed):
            return None
        ctx = CompileContext(timezone=config.timezone, clock=HourClock(config.timezone))
        one = load_rules([table], chk, registry, ctx, config.providers, config.default_provider,
                         config.default_model, base=("routing", "rules"))
        if chk.issues or chk.located or chk.warnings or len(one) != 1:
            return None
        new = one[0]._replace(position=changed)
    by_table = {id(r.raw): r for r in config.rules}
    rules: list[RuleConfig] = []
    for position, t in enumerate(tables):
        r = new if position == changed else by_table.get(id(t))
        if r is None:
            return None
        rules.append(r if r.position == position else r._replace(position=position))
    doc = with_rules(config.raw, list(tables))
    if new is not None:
        check_cheapest_prices([new], doc, chk)
    sections = check_sections(doc, chk, SectionContext(config.path, config.base_dir, doc, registry),
                              all_sections(registry))
    if chk.issues:
        return None
    return config._replace(rules=tuple(rules), raw=doc, sections=sections)
