"""``tacroute ui``: a local web app over the rules, what-if, providers and history.

The plugin (:mod:`tacroute_ui.plugin`) only adds the command; the web stack
(Starlette, uvicorn, Jinja2) is imported when the command runs, so
``tacroute route`` never loads it.
"""
