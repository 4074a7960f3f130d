"""``tacroute ui``: serve the web UI on a loopback port and print its one-time URL."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import secrets
import socket
import sys
import tempfile
from pathlib import Path

import click

from tacroute.errors import UsageError

__all__ = ["TOKEN_ENV", "ui"]

#: An explicit token (instead of a fresh random one); never a command-line argument.
TOKEN_ENV = "TACROUTE_UI_TOKEN"
MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def read_token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--token-file {token_file}: cannot read it: {exc}") from None
        where = f"--token-file {token_file}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        where = f"${TOKEN_ENV}"
        if not token:
            return None
    if len(token) < MIN_TOKEN or any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError(f"{where}: the token must be at least {MIN_TOKEN} printable characters "
                              "without spaces")
    return token


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stall on keep-alive
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc.strerror or exc}"
        raise UsageError(f"{host}:{port} {why} (choose another --port, or 0 for a free one)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _open_browser(url: str) -> Path | None:
    """Open the URL through a private redirect file, so the token is in no process's argv."""
    import webbrowser

    fd, name = tempfile.mkstemp(prefix="tacroute-ui-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f'<!doctype html><meta http-equiv="refresh" content="0;url={url}">'
                 f'<a href="{url}">open tacroute ui</a>\n')
    with contextlib.suppress(Exception):  # no browser: the printed URL is enough
        webbrowser.open(Path(name).as_uri())
    return Path(name)


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config file (default: the usual search, as every command).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; a non-loopback one needs --token-file or $TACROUTE_UI_TOKEN.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read the access token from this file (default: $TACROUTE_UI_TOKEN, else a fresh one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the URL.")
def ui(config_path: Path | None, port: int, host: str, token_file: Path | None, no_browser: bool) -> None:
    """A local web UI: rules, try a task, what-if, providers, history.

    The first line printed is the URL to open (with a one-time token); every
    request needs that token. Stop it with Ctrl-C.
    """
    import uvicorn

    from tacroute_ui.app import build_app
    from tacroute_ui.state import AppState

    token = read_token(token_file)
    if not is_loopback(host) and token is None:
        raise UsageError(f"--host {host} is not a loopback address: anyone who can reach it could "
                         f"edit your config with a leaked URL; give the token explicitly with "
                         f"--token-file FILE or ${TOKEN_ENV}")
    from tacroute_ui import core  # the core adapter loads config, routing and the CLI helpers

    state = AppState(core.config_path(config_path))
    state.snapshot()  # a config that does not load is an error now, not on the first page
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = token or secrets.token_urlsafe(32)
    app = build_app(state, token=token, host=host, port=port)
    from tacroute_ui.security import host_port

    url = f"http://{host_port(host, port)}/?token={token}"
    click.echo(url)
    sys.stdout.flush()
    click.echo(f"tacroute ui: editing {state.path}; Ctrl-C stops", err=True)
    opened = None if no_browser else _open_browser(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           server_header=False))
    try:
        server.run(sockets=[sock])
    finally:
        state.close()
        sock.close()
        if opened is not None:
            opened.unlink(missing_ok=True)
