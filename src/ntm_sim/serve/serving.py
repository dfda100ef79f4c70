"""How ``ntm-sim serve`` starts the dashboard: safe by default.

The dashboard launches solves and takes uploaded files, so it listens on this machine
only (``127.0.0.1``) unless asked otherwise. Serving to a network is an explicit choice
(``--network`` or a non-loopback ``--address``) and needs Panel's own login (basic
authentication) with a password file: a JSON object of user names and passwords, readable
by its owner only. Websocket connections are accepted only from the origins the server is
reached by (loopback names, this machine's name and addresses, and any ``--origin``
given); the cookie secret that signs logins is drawn afresh at each start and passed in
the environment, never on the command line (where ``ps`` would show it).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ntm_sim.errors import InputError, Problem, Text

LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"
# uploads travel base64-encoded in one websocket message: the dashboard's 10 MB limit is about 13.3 MB
WEBSOCKET_MAX_BYTES = 20 * 1024 * 1024
MIN_PASSWORD_CHARS = 8


@dataclass(frozen=True)
class ServeSettings:
    """What ``ntm-sim serve`` was asked for.

    Parameters
    ----------
    results
        Folder of results folders shown.
    scenarios
        Folder of scenario files offered for new runs.
    port
        TCP port.
    network
        Listen on every interface (the office network), not on this machine only.
    address
        A specific address to listen on (overrides ``network``'s all interfaces).
    password_file
        JSON ``{"user": "password", …}`` for Panel's basic authentication.
    origins
        Further ``host[:port]`` the browsers reach the server by.
    app
        The Panel script to serve (default: the package's own page, :data:`SERVED_APP`).
    save_scenarios
        Let the page save an edited scenario into ``scenarios``; otherwise it can only be downloaded.
    """

    results: Path
    scenarios: Path
    port: int = 5006
    network: bool = False
    address: str | None = None
    password_file: Path | None = None
    origins: list[str] = field(default_factory=list)
    app: Path | None = None
    save_scenarios: bool = False

    @property
    def bind(self) -> str:
        """The address the server listens on."""
        if self.address:
            return self.address
        return ALL_INTERFACES if self.network else LOOPBACK

    @property
    def public(self) -> bool:
        """Whether other machines can reach the server."""
        try:
            return not ipaddress.ip_address(self.bind).is_loopback
        except ValueError:  # a host name: resolved by the server, assume reachable
            return self.bind != "localhost"


LOGIN_PAGE = Path(__file__).resolve().parents[1] / "data" / "serve" / "login.html"  # loads nothing from outside
#: the package's own page and its setup script (:mod:`ntm_sim.dashboard`, a layer above: found by path, not imported)
DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
SERVED_APP = DASHBOARD / "app.py"
SERVER_SETUP = DASHBOARD / "server_setup.py"


def default_app() -> Path:
    """The package's own page (``ntm_sim/dashboard/app.py``): served from a checkout or a wheel alike."""
    return SERVED_APP


def check_password_file(path: Path) -> list[Problem]:
    """Why ``path`` cannot serve as the login's password file, or nothing.

    It must be a JSON object of user names to passwords (at least 8 characters each),
    and, on POSIX systems, readable and writable by its owner only.
    """
    where = str(path)
    if not path.is_file():
        return [Problem(where, Text("serve.password_missing"), expected=Text("serve.password_missing.expected"))]
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [Problem(where, Text("serve.password_open"), expected=Text("serve.password_open.expected", file=where),
                        found=oct(stat.S_IMODE(path.stat().st_mode)))]
    try:
        users = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem(where, Text("serve.password_json", error=str(exc)), expected=Text("serve.password.expected"))]
    if not isinstance(users, dict) or not users:
        return [Problem(where, Text("serve.password_empty"), expected=Text("serve.password.expected"))]
    problems = []
    for user, password in users.items():
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
            problems.append(Problem(where, Text("serve.password_short", user=str(user)),
                                    expected=Text("serve.password_short.expected", n=MIN_PASSWORD_CHARS)))
    return problems


def _machine_names() -> list[str]:
    """Host names and addresses of this machine (what office browsers may type)."""
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return sorted(n for n in names if n)


def websocket_origins(settings: ServeSettings) -> list[str]:
    """``host:port`` origins whose pages may open the dashboard's websocket."""
    hosts = ["localhost", LOOPBACK]
    if settings.public:
        hosts += _machine_names()
        if settings.bind != ALL_INTERFACES:
            hosts.append(settings.bind)
    found = [f"{h}:{settings.port}" for h in hosts]
    return list(dict.fromkeys([*found, *settings.origins]))


def check_settings(settings: ServeSettings) -> None:
    """Refuse unsafe or unusable settings before the server starts.

    Raises
    ------
    InputError
        Serving to a network without a password file, a bad password file, a missing
        results folder or app, or a port out of range.
    """
    problems = []
    if not 1 <= settings.port <= 65535:
        problems.append(Problem("--port", Text("serve.port"), expected=Text("serve.port.expected"),
                                found=str(settings.port)))
    if settings.public and settings.password_file is None:
        problems.append(Problem("--network", Text("serve.network"), expected=Text("serve.network.expected")))
    if settings.password_file is not None:
        problems += check_password_file(settings.password_file)
    for origin in settings.origins:
        if "*" in origin or not origin.strip():
            problems.append(Problem("--origin", Text("serve.origin"), expected=Text("serve.origin.expected"),
                                    found=origin))
    if not settings.results.is_dir():
        problems.append(Problem(str(settings.results), Text("serve.results"), expected=Text("serve.results.expected")))
    app = settings.app or default_app()
    if not app.is_file():
        problems.append(Problem(str(app), Text("serve.app"), expected=Text("serve.app.expected")))
    if problems:
        raise InputError(problems)


def serve_command(settings: ServeSettings) -> tuple[list[str], dict[str, str]]:
    """The ``panel serve`` command line and environment for ``settings`` (checked first).

    Returns
    -------
    tuple
        The command (a list of arguments) and the environment to run it in.
    """
    check_settings(settings)
    app = (settings.app or default_app()).resolve()
    # panel serve, with the routes that answer before a login hardened (ntm_sim.serve.panel_server)
    argv = [sys.executable, "-m", "ntm_sim.serve.panel_server", str(app), "--address", settings.bind,
            "--port", str(settings.port), "--websocket-max-message-size", str(WEBSOCKET_MAX_BYTES)]
    # imports once, then keeps them out of the collections Panel runs after each page
    argv += ["--setup", str(SERVER_SETUP)]
    for origin in websocket_origins(settings):
        argv += ["--allow-websocket-origin", origin]
    env = dict(os.environ)
    env.pop("PANEL_BASIC_AUTH", None)  # the login is the password file given here, or none
    if settings.password_file is not None:
        argv += ["--basic-auth", str(settings.password_file.resolve()), "--basic-login-template", str(LOGIN_PAGE)]
        env["PANEL_COOKIE_SECRET"] = secrets.token_urlsafe(32)
    # the page's own settings, as the served script's arguments (last: --args takes the rest); the page reads
    # them back with ntm_sim.dashboard.settings.DashboardSettings.from_args
    page = ["--results", str(settings.results.resolve()), "--scenarios", str(settings.scenarios.resolve())]
    if settings.save_scenarios:
        page.append("--save-scenarios")
    return [*argv, "--args", *page], env


SERVER_STOP_GRACE_S = 10.0  # how long a server asked to stop may take before it is killed


class _Stop(Exception):
    """SIGTERM reached ``ntm-sim serve``."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def run_server(argv: list[str], env: dict[str, str]) -> int:
    """Run ``panel serve`` until it ends, or until this process is stopped (Ctrl+C or SIGTERM).

    A server asked to stop that has not ended within :data:`SERVER_STOP_GRACE_S` is killed: left
    running it would keep its port, and Bokeh's SIGTERM handler fails silently when the server's
    output can no longer be written (it prints first), so such a server outlives every signal but KILL.

    Returns
    -------
    int
        The server's exit code; 0 when it was stopped on request.
    """
    proc = subprocess.Popen(argv, env=env)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        return proc.wait()
    except (KeyboardInterrupt, _Stop):
        proc.terminate()  # Ctrl+C reached it too (one process group); a SIGTERM sent to this process alone did not
        try:
            proc.wait(timeout=SERVER_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)

