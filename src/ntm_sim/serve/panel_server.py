"""``python -m ntm_sim.serve.panel_server ARGS``: ``panel serve ARGS`` with its routes hardened.

Panel's server answers some requests before any login, and one of them imports Python
modules by the name in the URL (``/components/<module>/…``): a request for
``ntm_sim.__main__`` once ran the command line inside the server and stopped it. This
entry point changes three things before the server starts, and nothing else:

* the component route serves resources of modules **already imported** only, never
  importing on request, and refuses names that are not dotted Python names (404);
* the login form (``--basic-auth``) compares passwords in constant time, **throttles**
  failed attempts per address and per user name (after :data:`LOGIN_FREE_FAILURES`
  failures every attempt is refused for a delay that doubles, up to
  :data:`LOGIN_MAX_LOCK_S`), and logs each failure and refusal;
* with a login, every route but the login form and the static files it needs asks for
  it (the component route and Panel's static files included).
"""

from __future__ import annotations

import hmac
import logging
import re
import sys
import threading
import time
from dataclasses import dataclass, field

from ntm_sim.messages import Catalogue

log = logging.getLogger("ntm_sim.serve")

MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
LOGIN_FREE_FAILURES = 5      # failed logins allowed before the delay starts
LOGIN_FIRST_LOCK_S = 30.0    # the first delay; it doubles with each further failure
LOGIN_MAX_LOCK_S = 900.0
LOGIN_FORGET_S = 3600.0      # failures older than this are forgotten
EN, VI = Catalogue("en"), Catalogue("vi")


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass
class LoginThrottle:
    """Failed logins by key (an address, a user name), and the delay each key must wait.

    Parameters
    ----------
    free
        Failures allowed before attempts are refused.
    first_lock_s, max_lock_s
        The first delay, doubled with each failure beyond ``free``, capped.
    forget_s
        A key with no failure for this long starts afresh.
    clock
        Time source (seconds), for tests.
    """

    free: int = LOGIN_FREE_FAILURES
    first_lock_s: float = LOGIN_FIRST_LOCK_S
    max_lock_s: float = LOGIN_MAX_LOCK_S
    forget_s: float = LOGIN_FORGET_S
    clock: object = time.monotonic
    _seen: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self.clock()  # type: ignore[operator]
        with self._lock:
            return max([0.0, *(self._seen[k].locked_until - now for k in keys if k in self._seen)])

    def failed(self, *keys: str) -> None:
        """Record a failed attempt for every key."""
        now = self.clock()  # type: ignore[operator]
        with self._lock:
            for key in keys:
                f = self._seen.setdefault(key, _Failures())
                if now - f.last > self.forget_s:
                    f.count = 0
                f.count += 1
                f.last = now
                if f.count > self.free:
                    f.locked_until = now + min(self.max_lock_s, self.first_lock_s * 2 ** (f.count - self.free - 1))

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of every key."""
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)


THROTTLE = LoginThrottle()


def _component_path(self: object, path: str) -> str:
    """Panel's component route, for modules already imported only (no import on request)."""
    from tornado.web import HTTPError

    parts = path.split("/")
    if len(parts) < 4 or not MODULE_NAME.match(parts[0]) or parts[0] not in sys.modules:
        raise HTTPError(404)
    return _ORIGINAL["component_path"](self, path)


_ORIGINAL: dict[str, object] = {}


def _login_post(self: object) -> None:
    """Panel's login form, throttled and logged."""
    username = self.get_argument("username", "")  # type: ignore[attr-defined]
    address = self.request.remote_ip or "?"  # type: ignore[attr-defined]
    keys = (f"ip:{address}", f"user:{username}")
    wait = THROTTLE.wait_s(*keys)
    if wait > 0:
        log.warning("login refused: too many failed attempts (user %r from %s), %.0f s to wait",
                    username, address, wait)
        self.set_status(429)  # type: ignore[attr-defined]
        self.set_header("Retry-After", str(int(wait) + 1))  # type: ignore[attr-defined]
        # before any login, so no page language: both, English first
        seconds = int(wait) + 1
        self.finish(EN("serve.login.throttled", s=seconds) + " "  # type: ignore[attr-defined]
                    + VI("serve.login.throttled", s=seconds))
        return
    password = self.get_argument("password", "")  # type: ignore[attr-defined]
    if self._validate(username, password):  # type: ignore[attr-defined]
        THROTTLE.succeeded(*keys)
        log.info("login: user %r from %s", username, address)
    else:
        THROTTLE.failed(*keys)
        log.warning("login failed: user %r from %s", username, address)
    _ORIGINAL["login_post"](self)  # type: ignore[operator]


def _validate(self: object, username: str, password: str) -> bool:
    """Panel's password check, in constant time."""
    import json
    import os

    from panel.config import config
    from panel.io.state import state

    info = state._server_config.get(self.application, {}).get("basic_auth", config.basic_auth)  # type: ignore[attr-defined]
    if isinstance(info, str) and os.path.isfile(info):
        with open(info, encoding="utf-8") as f:
            info = json.load(f)
    if isinstance(info, dict):
        expected = info.get(username)
        if not isinstance(expected, str):
            hmac.compare_digest(password.encode(), password.encode())  # the same work for unknown users
            return False
        return hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8"))
    return isinstance(info, str) and hmac.compare_digest(password.encode("utf-8"), info.encode("utf-8"))


_GATED: dict[type, type] = {}


def _gated(handler: type) -> type:
    """``handler`` answering only a signed-in user (a page asks for the login, anything else 403)."""
    if handler not in _GATED:
        async def prepare(self: object) -> None:
            provider = self.application.auth_provider  # type: ignore[attr-defined]
            if provider.get_user_async is not None:
                user = await provider.get_user_async(self)
            else:
                user = provider.get_user(self)
            if not user:
                from tornado.web import HTTPError

                raise HTTPError(403)
            result = handler.prepare(self)
            if result is not None:
                await result

        _GATED[handler] = type(f"Gated{handler.__name__}", (handler,), {"prepare": prepare})
    return _GATED[handler]


def _gate_routes(app: object) -> None:
    """With a login, put every route but the login and logout forms (and the pages, which ask for it) behind it."""
    from bokeh.server.views.doc_handler import DocHandler
    from panel.auth import BasicLoginHandler, LogoutHandler
    from tornado.web import RequestHandler

    provider = app.auth_provider  # type: ignore[attr-defined]
    if provider.get_user is None and provider.get_user_async is None:
        return
    open_routes = (BasicLoginHandler, LogoutHandler, DocHandler)  # pages redirect to the login themselves
    for rule in app.wildcard_router.rules:  # type: ignore[attr-defined]
        target = rule.target
        if isinstance(target, type) and issubclass(target, RequestHandler) and not issubclass(target, open_routes):
            rule.target = _gated(target)


def harden() -> None:
    """Patch Panel's handlers as the module docstring says (idempotent)."""
    from bokeh.server.tornado import BokehTornado
    from panel.auth import BasicLoginHandler
    from panel.io.server import ComponentResourceHandler

    if _ORIGINAL:
        return
    _ORIGINAL["component_path"] = ComponentResourceHandler.parse_url_path
    _ORIGINAL["login_post"] = BasicLoginHandler.post
    _ORIGINAL["tornado_init"] = BokehTornado.__init__
    ComponentResourceHandler.parse_url_path = _component_path  # type: ignore[method-assign]
    BasicLoginHandler._validate = _validate  # type: ignore[method-assign]
    BasicLoginHandler.post = _login_post  # type: ignore[method-assign]

    def tornado_init(self: object, *args: object, **kwargs: object) -> None:
        _ORIGINAL["tornado_init"](self, *args, **kwargs)  # type: ignore[operator]
        _gate_routes(self)

    BokehTornado.__init__ = tornado_init  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    """Run ``panel serve`` with :func:`harden` applied."""
    from panel.command import main as panel_main

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    harden()
    sys.argv = ["panel", "serve", *(sys.argv[1:] if argv is None else argv)]
    panel_main()


if __name__ == "__main__":
    main()
