"""The plugin base classes: condition, provider, output parser and state backend types.

Plugin authors subclass :class:`ConditionType`, :class:`ProviderType`,
:class:`OutputParserType` and :class:`StateBackendType`; their register hooks receive a
:data:`RegisterCondition`, :data:`RegisterProvider`, :data:`RegisterOutputParser` or
:data:`RegisterStateBackend`. (The state backend type is re-exported by
:mod:`tacroute.state`, whose seam loads only when state is used.)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from tacroute.tuples import NamedTuple

if TYPE_CHECKING:
    from datetime import tzinfo

    from tacroute.clock import HourClock
    from tacroute.config.model import ProviderConfig
    from tacroute.providers.execute import Attempt
    from tacroute.state.api import StateBackend
    from tacroute.state.settings import StateSettings
    from tacroute.types.decision import Predicate, Task
    from tacroute.types.run import Outcome, OutputParser

__all__ = [
    "CompileContext",
    "ConditionIndex",
    "ConditionType",
    "OutputParserType",
    "ProviderType",
    "RegisterCondition",
    "RegisterOutputParser",
    "RegisterProvider",
    "RegisterStateBackend",
    "StateBackendType",
]


# --------------------------------------------------------------------- conditions
class CompileContext(NamedTuple):
    """What a condition type may use when it compiles a value.

    ``timezone`` is ``routing.timezone`` (``None`` means local time) and
    ``clock`` gives the current hour in that zone, cheaply.
    """

    timezone: tzinfo | None
    clock: HourClock


class ConditionIndex(NamedTuple):
    """How the router may look a condition value up instead of calling its predicate.

    Returned by :meth:`ConditionType.index`. A rule with this condition matches
    a task exactly when the task's key (``key_of(task)``; with ``many``, any of
    the keys it returns) is in ``keys`` or, being an ``int``, lies in one of
    ``ranges`` (``(lo, hi)``, both included; ``-inf``/``inf`` for open ends).
    A key of None (``many``: no keys) matches no value. ``key_of`` must behave
    the same for every value of the condition type in one config (it depends
    on the task and the :class:`CompileContext` only): the router calls one
    per condition name and decision, then ANDs precomputed rule bitsets, so
    matching costs the number of indexed conditions, not the number of rules.

    ``reads`` (optional) names the task attributes ``key_of`` and the predicate
    read when that is all they read: no other attribute, no state, no time but
    ``clock``, consulted only for a task without an ``hour`` attribute. When
    every condition of a rule table says so, the router keeps its decisions
    per the values of those attributes (and the clock's hour) and a repeated
    task skips the matching; None (the default) means unknown, and the table's
    tasks are matched each time.
    """

    key_of: Callable[[Task], Any]
    keys: frozenset[Hashable] = frozenset()
    ranges: tuple[tuple[float, float], ...] = ()
    many: bool = False
    reads: frozenset[str] | None = None
    clock: HourClock | None = None


class ConditionType:
    """A kind of rule condition, such as ``priority`` or ``hour_range``.

    Subclass it, set ``name`` and implement :meth:`compile`, then register an
    instance from a ``register_conditions`` hook. ``compile`` runs once, when a
    config loads; the predicate it returns runs on every routing decision, so it
    should be a plain, fast function that reads the task and calls no hooks.
    """

    #: The key used in a rule's ``conditions`` table.
    name: ClassVar[str] = ""
    #: One line for ``tacroute plugins`` and error messages: what a valid value is.
    description: ClassVar[str] = ""

    def compile(self, value: Any, ctx: CompileContext) -> Predicate:
        """Turn a config value into a predicate.

        Raise :class:`tacroute.errors.ConditionValueError` with a message that
        says what would be valid; the loader adds file, line and key path.
        """
        raise NotImplementedError

    def index(self, value: Any, ctx: CompileContext) -> ConditionIndex | None:
        """Optional: the value as a :class:`ConditionIndex`, or None (the default).

        Called once, right after :meth:`compile` with the same (valid) value.
        It must describe exactly the tasks the compiled predicate accepts;
        conditions without one keep their predicate, which then runs only on
        the rules the indexed conditions left.
        """
        return None

    def never_matches(self, value: Any) -> bool:
        """Whether a (valid) value can match no task at all, for ``config validate``."""
        return False

    def covers(self, broader: Any, narrower: Any) -> bool:
        """Whether every task matching ``narrower`` also matches ``broader``.

        Used to warn about shadowed rules. The default, equal values, is always
        safe: a condition type that cannot tell just never reports shadowing.
        """
        return bool(broader == narrower)

    def cover_tokens(self, value: Any) -> Iterable[Hashable] | None:
        """Optional: tokens that let ``config validate`` index rules instead of comparing pairs.

        Return hashable tokens such that ``covers(a, b)`` implies every token of
        ``b`` is a token of ``a`` (for a list of labels: the labels), or None
        (the default) when there are none. Only a speed-up for configs with
        thousands of rules; findings are always confirmed with :meth:`covers`.
        """
        return None


# ---------------------------------------------------------------------- providers
class ProviderType:
    """A kind of provider, such as ``claude-cli`` or ``openrouter``.

    A ``[providers.NAME]`` table uses the type named by its ``type`` key
    (default: ``NAME``). The core reads the common keys (``enabled``,
    ``command_template``, ``stdin``, ``requires_api_key``, ``api_key_env``,
    ``env``, ``timeout``, ``output_parser``); ``options`` declares the extra keys
    this type accepts and their TOML types, which the core checks before the
    plugin sees them.

    Two kinds, one seam: a *command* type runs ``command_template`` (or its
    ``default_command``) and reads the output with ``output_parser``; an
    *in-process* type implements :meth:`execute` (an HTTP API, say) and needs
    no command. A table that sets ``command_template`` always runs that command.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Command used when the table has no ``command_template``.
    default_command: ClassVar[Sequence[str]] = ()
    #: What goes to the command's standard input when the table has no ``stdin``
    #: (a template such as ``"{prompt_file}"`` means: that file's content).
    default_stdin: ClassVar[str | None] = None
    #: Environment variable holding the API key when the table names none.
    default_api_key_env: ClassVar[str | None] = None
    #: The variable the program itself reads its key from, when it cannot be told
    #: another (the Gemini CLI: ``GEMINI_API_KEY``); a table whose ``api_key_env``
    #: names another gets the key copied into this one for its process.
    program_key_env: ClassVar[str | None] = None
    #: Name of the registered output parser that reads this provider's stdout.
    output_parser: ClassVar[str | None] = None
    #: Extra table keys: name -> accepted Python type(s) after TOML parsing.
    options: ClassVar[Mapping[str, type | tuple[type, ...]]] = {}
    #: Whose cost to keep when the table has no ``cost_source``: ``"reported"``
    #: (the program's own figure; without one tacroute estimates anyway) or
    #: ``"estimated"`` (priced from the tokens with tacroute's pricing table).
    default_cost_source: ClassVar[str] = "reported"

    def cost_source(self, config: ProviderConfig) -> str:
        """``"reported"`` or ``"estimated"`` for this table (its ``cost_source``, else the default).

        Override to decide from the table, e.g. a CLI pointed at another vendor's
        endpoint reports costs at the wrong prices.
        """
        return config.cost_source or self.default_cost_source

    def lint(self, config: ProviderConfig) -> list[str]:
        """Warnings for ``tacroute config validate`` (the config still loads)."""
        return []

    def availability(self, config: ProviderConfig) -> tuple[bool, str | None]:
        """Extra availability checks after the core's (enabled, command, API key).

        Return ``(False, reason)`` to mark the provider unavailable.
        """
        return True, None

    def command_env(self, config: ProviderConfig) -> Mapping[str, str]:
        """Extra environment variables for the provider's process.

        How a type hands its ``options`` to the program it runs without putting
        them in argv. :func:`tacroute.providers.command.build_env`
        merges them over the parent environment; the table's own ``env`` wins
        over them. Never put a secret here: only the *name* of the key's variable.
        """
        return {}

    def execute(self, attempt: Attempt) -> Outcome:
        """Run one attempt in-process and say how it went (in-process types only).

        Called by the runner, in a worker thread of its own, for a table with
        no ``command_template``. ``attempt`` carries the table, model, prompt,
        environment, timeout, cancel event, progress sink and output file (see
        :class:`tacroute.providers.Attempt`). Return an :class:`Outcome`; a
        provider failure is ``Outcome(False, ErrorClass.X, message)``, never an
        exception. Stop soon after ``attempt.cancel`` is set: the runner reports
        the attempt cancelled or timed out itself. Command types leave this alone.
        """
        raise NotImplementedError(f"provider type {self.name!r} runs a command, not execute()")

    def check(self, config: ProviderConfig, env: Mapping[str, str]) -> dict[str, Any] | None:
        """A live check of the provider (``tacroute providers --check``), or None.

        None (the default) means the type has no live check. Otherwise return
        a JSON-able dict with at least ``ok`` (bool) and ``message`` (str),
        plus any details worth showing (credits, rate limit). It may do network
        I/O; it must never include the API key. ``env`` is the environment the
        key is read from.
        """
        return None


# ------------------------------------------------------------------ output parsers
class OutputParserType:
    """A kind of output parser, such as ``claude-stream-json``.

    Subclass it, set ``name`` and implement :meth:`create`, then register an
    instance from a ``register_output_parsers`` hook. A provider type names
    the parser its command's stdout needs in ``ProviderType.output_parser``.
    """

    #: The name provider types and ``output_parser`` config keys refer to.
    name: ClassVar[str] = ""
    #: One line for ``tacroute plugins``: what output it reads.
    description: ClassVar[str] = ""

    def create(self) -> OutputParser:
        """A new parser for one attempt (it may keep state). Import heavy
        modules here, not at module level: routing never creates a parser."""
        raise NotImplementedError


#: The ``register`` callable a ``register_providers`` hook receives.
RegisterProvider = Callable[[ProviderType], None]
#: The ``register`` callable a ``register_conditions`` hook receives.
RegisterCondition = Callable[[ConditionType], None]
#: The ``register`` callable a ``register_output_parsers`` hook receives.
RegisterOutputParser = Callable[[OutputParserType], None]


# -------------------------------------------------------------------- state backends
class StateBackendType:
    """A kind of state backend a plugin registers (``register_state_backends``).

    ``name`` is what ``[state] backend`` names; ``keys`` the extra ``[state]``
    keys it reads (name -> the types allowed), checked by the core; :meth:`check`
    may add its own problems as ``(key, message)``; :meth:`open` connects lazily
    (it must not block: the first call may fail with :class:`StateUnavailable`).
    """

    name: str = ""
    description: str = ""
    keys: ClassVar[Mapping[str, tuple[type, ...]]] = {}

    def check(self, table: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def open(self, settings: StateSettings, env: Mapping[str, str]) -> StateBackend:
        raise NotImplementedError


#: The ``register`` argument of ``register_state_backends``.
RegisterStateBackend = Callable[[StateBackendType], None]
