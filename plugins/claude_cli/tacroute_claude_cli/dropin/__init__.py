"""``tacroute-claude``: a drop-in for the Claude CLI in print mode, routed by tacroute.

A coordinator that runs ``claude -p ... --output-format stream-json --verbose``
is pointed at this program instead (``CLAUDE_CODE_PATH``, or a ``claude`` on
``PATH``): it reads the same command line (:mod:`.argv`), derives the task's
attributes (:mod:`.attrs`), runs the task through :func:`tacroute.run_task`
(routing, failover, history) in the caller's folder and environment, and prints
what the Claude CLI would have printed (:mod:`tacroute.runner.claude_stream`).
:mod:`.main` is the program.
"""
