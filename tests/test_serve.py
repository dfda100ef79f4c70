"""``ntm-sim serve``: this machine only by default; the network only with a login."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ntm_sim.errors import InputError
from ntm_sim.serve import serving
from ntm_sim.serve.serving import SERVER_STOP_GRACE_S, ServeSettings, check_password_file, serve_command

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

ROOT = Path(__file__).resolve().parents[1]


def _password_file(folder: Path, users: object, mode: int = 0o600) -> Path:
    path = folder / "dang_nhap.json"
    path.write_text(json.dumps(users, ensure_ascii=False), encoding="utf-8")
    path.chmod(mode)
    return path


def _flag_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_by_default_it_listens_on_this_machine_only(tmp_path):
    argv, env = serve_command(ServeSettings(results=tmp_path, scenarios=ROOT / "scenarios", port=5123))
    assert _flag_values(argv, "--address") == ["127.0.0.1"]
    assert sorted(_flag_values(argv, "--allow-websocket-origin")) == ["127.0.0.1:5123", "localhost:5123"]
    assert "--basic-auth" not in argv
    assert _flag_values(argv, "--websocket-max-message-size") == [str(20 * 1024 * 1024)]
    assert argv[1:3] == ["-m", "ntm_sim.serve.panel_server"]  # panel serve with its open routes hardened
    # the package's own page (a checkout or a wheel alike), never a file of the checkout beside it
    from ntm_sim.dashboard import SERVED_APP, SERVER_SETUP, DashboardSettings

    assert Path(argv[3]) == SERVED_APP
    assert SERVED_APP.is_file()
    assert SERVED_APP.is_relative_to(Path(__import__("ntm_sim").__file__).parent)
    # run once before the first page: imports, then the objects alive kept out of every later collection
    assert [Path(v) for v in _flag_values(argv, "--setup")] == [SERVER_SETUP]
    # the page's settings are its arguments (after --args), not the environment
    page = DashboardSettings.from_args(argv[argv.index("--args") + 1:])
    assert page.results == tmp_path.resolve()
    assert page.scenarios == (ROOT / "scenarios").resolve()
    assert page.save_scenarios is False  # edited scenarios are downloaded, not saved on the server
    assert not any(k.startswith("NTM_SIM_") and k not in os.environ for k in env)


def test_saving_scenarios_on_the_server_is_asked_for(tmp_path, monkeypatch):
    from ntm_sim.dashboard import DashboardSettings

    monkeypatch.setenv("NTM_SIM_SAVE_SCENARIOS", "1")  # an environment variable asks for nothing
    argv, _ = serve_command(ServeSettings(results=tmp_path, scenarios=ROOT / "scenarios", port=5123))
    assert DashboardSettings.from_args(argv[argv.index("--args") + 1:]).save_scenarios is False
    argv, _ = serve_command(ServeSettings(results=tmp_path, scenarios=ROOT / "scenarios", port=5123,
                                          save_scenarios=True))
    assert DashboardSettings.from_args(argv[argv.index("--args") + 1:]).save_scenarios is True


def test_the_network_needs_a_password_file(tmp_path):
    for settings in (ServeSettings(results=tmp_path, scenarios=tmp_path, network=True),
                     ServeSettings(results=tmp_path, scenarios=tmp_path, address="192.168.1.10")):
        with pytest.raises(InputError) as err:
            serve_command(settings)
        assert any("--password-file" in (p.expected or "") for p in err.value.problems)


def test_with_a_password_file_it_serves_the_network_behind_a_login(tmp_path):
    secret_file = _password_file(tmp_path, {"ke_hoach": "mật khẩu dài đủ"})
    settings = ServeSettings(results=tmp_path, scenarios=tmp_path, network=True, password_file=secret_file,
                             origins=["ntm.laocai.local:5006"])
    argv, env = serve_command(settings)
    assert _flag_values(argv, "--address") == ["0.0.0.0"]
    assert _flag_values(argv, "--basic-auth") == [str(secret_file.resolve())]
    origins = _flag_values(argv, "--allow-websocket-origin")
    assert "ntm.laocai.local:5006" in origins
    assert "*" not in origins
    login_page = Path(_flag_values(argv, "--basic-login-template")[0])
    assert login_page.is_file()
    assert "http" not in login_page.read_text(encoding="utf-8")  # loads nothing from outside (Panel's loads its CDN)
    assert len(env["PANEL_COOKIE_SECRET"]) >= 32  # in the environment, not on the command line (ps shows it)
    assert env["PANEL_COOKIE_SECRET"] not in " ".join(argv)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_bad_password_files_are_refused_with_the_reason(tmp_path):
    assert check_password_file(tmp_path / "none.json")[0].message == "password file not found"
    readable = _password_file(tmp_path, {"ke_hoach": "mật khẩu dài đủ"}, mode=0o644)
    assert "chmod 600" in (check_password_file(readable)[0].expected or "")
    short = _password_file(tmp_path, {"ke_hoach": "123"})
    assert "too short" in check_password_file(short)[0].message
    empty = _password_file(tmp_path, {})
    assert "no users" in check_password_file(empty)[0].message
    (tmp_path / "dang_nhap.json").write_text("ke_hoach: abc", encoding="utf-8")
    assert "not a JSON file" in check_password_file(tmp_path / "dang_nhap.json")[0].message


def test_a_wildcard_origin_is_refused(tmp_path):
    for origin in ("*", "*.laocai.gov.vn:5006", " "):
        with pytest.raises(InputError) as err:
            serve_command(ServeSettings(results=tmp_path, scenarios=tmp_path, origins=[origin]))
        assert err.value.problems[0].file == "--origin"
        assert err.value.problems[0].found == origin


def test_importing_the_package_main_runs_nothing():
    """Panel's component route imports modules by name: importing ``ntm_sim.__main__`` must not run the CLI."""
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['panel', 'serve', 'x']; "
                           "import ntm_sim.__main__; print('still here')"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "still here"


def test_failed_logins_are_throttled_by_address_and_user():
    from ntm_sim.serve.panel_server import LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(free=5, first_lock_s=30, max_lock_s=900, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.wait_s("ip:a", "user:u") == 0
        throttle.failed("ip:a", "user:u")
    assert throttle.wait_s("ip:a", "user:u") == 0  # five failures are free
    throttle.failed("ip:a", "user:u")
    assert throttle.wait_s("ip:a") == pytest.approx(30)
    assert throttle.wait_s("ip:b", "user:u") == pytest.approx(30)  # another address, the same user name
    assert throttle.wait_s("ip:b", "user:v") == 0
    throttle.failed("ip:a", "user:u")
    assert throttle.wait_s("ip:a") == pytest.approx(60)  # doubles
    for _ in range(20):
        throttle.failed("ip:a")
    assert throttle.wait_s("ip:a") == pytest.approx(900)  # capped
    now[0] += 901
    assert throttle.wait_s("ip:a", "user:u") == 0
    throttle.succeeded("ip:a", "user:u")
    throttle.failed("ip:a")
    assert throttle.wait_s("ip:a") == 0  # a success forgets the failures


def test_the_command_refuses_the_network_without_a_login(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ntm_sim", "serve", "--results", str(tmp_path), "--network"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "serving to the network needs a login" in proc.stderr
    assert "Traceback" not in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_served_dashboard_asks_for_the_login(tmp_path):
    """The real server: the page redirects to Panel's login form; the right password opens it."""
    port = _free_port()
    secret_file = _password_file(tmp_path, {"ke_hoach": "mật khẩu dài đủ"})
    (tmp_path / "results").mkdir()
    log = (tmp_path / "server.log").open("w", encoding="utf-8")  # a pipe left unread would fill and block it
    proc = subprocess.Popen([sys.executable, "-m", "ntm_sim", "serve", "--results", str(tmp_path / "results"),
                             "--scenarios", str(ROOT / "scenarios"), "--port", str(port),
                             "--password-file", str(secret_file)],
                            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/app"
        deadline = time.time() + 60
        while True:
            try:
                page = urllib.request.urlopen(url, timeout=5)
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, (tmp_path / "server.log").read_text(encoding="utf-8")
                assert time.time() < deadline, "the server did not answer within 60 s"
                time.sleep(0.5)
        assert page.geturl().startswith(f"http://127.0.0.1:{port}/login")  # redirected to the login form
        assert 'name="password"' in page.read().decode("utf-8")
        base = f"http://127.0.0.1:{port}"
        # before any login: nothing but the login form answers (the component route imported modules by name)
        for path in ("/components/ntm_sim.__main__/a/b/c", "/components/this/a/b/c", "/components/..%2f..%2fx/a/b/c",
                     "/static/js/bokeh.min.js", "/static/extensions/panel/panel.min.js", "/favicon.ico",
                     "/app/autoload.js", "/app/ws"):
            assert _status(base + path) == 403, path
        assert proc.poll() is None, (tmp_path / "server.log").read_text(encoding="utf-8")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        wrong = urllib.parse.urlencode({"username": "ke_hoach", "password": "sai mật khẩu"}).encode()
        assert "error=" in opener.open(f"{base}/login", data=wrong, timeout=30).geturl()
        right = urllib.parse.urlencode({"username": "ke_hoach", "password": "mật khẩu dài đủ"}).encode()
        opener.open(f"{base}/login", data=right, timeout=30)
        app = opener.open(url, timeout=60)
        assert app.geturl() == url
        assert "ntm-sim" in app.read().decode("utf-8")  # the dashboard's page, past the login
        assert opener.open(base + "/static/js/bokeh.min.js", timeout=30).status == 200  # signed in: the page's files
        # signed in: the component route still imports nothing on request, and the server keeps answering
        for path in ("/components/ntm_sim.__main__/a/b/c", "/components/this/a/b/c", "/components/..%2f..%2fx/a/b/c"):
            with pytest.raises(urllib.error.HTTPError) as err:
                opener.open(base + path, timeout=30)
            assert err.value.code == 404, path
        assert opener.open(url, timeout=60).status == 200
        # failed logins are throttled (40 wrong ones once took 0.7 s, and the right one then worked at once)
        codes = [_status(f"{base}/login", data=wrong) for _ in range(8)]
        assert codes[-1] == 429
        assert _status(f"{base}/login", data=right) == 429  # the right password must wait too
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=SERVER_STOP_GRACE_S + 5)
        log.close()
    assert _group_gone(proc.pid), "the server outlived `ntm-sim serve`"
    logged = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert "login failed: user 'ke_hoach' from 127.0.0.1" in logged
    assert "login refused: too many failed attempts" in logged


def _status(url: str, data: bytes | None = None) -> int:
    """The HTTP status of one request, redirects not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        return urllib.request.build_opener(NoRedirect()).open(url, data=data, timeout=30).status
    except urllib.error.HTTPError as err:
        return err.code


def _group_gone(pgid: int, wait_s: float = 5.0) -> bool:
    deadline = time.time() + wait_s
    while time.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_a_server_deaf_to_sigterm_is_killed_when_serve_is_stopped(monkeypatch, tmp_path):
    """``ntm-sim serve`` stopped by SIGTERM stops its server, and kills one that does not stop (Bokeh's handler
    prints first, and fails silently once its output is a closed pipe: such a server kept its port for ever)."""
    monkeypatch.setattr(serving, "SERVER_STOP_GRACE_S", 1.0)
    ready = tmp_path / "ready"
    deaf = [sys.executable, "-c", "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"]
    children: list[subprocess.Popen] = []
    popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        children.append(popen(*args, **kwargs))
        return children[-1]

    monkeypatch.setattr(serving.subprocess, "Popen", recording_popen)

    def stop_when_ready() -> None:
        while not ready.exists():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=stop_when_ready, daemon=True).start()
    start = time.monotonic()
    assert serving.run_server(deaf, dict(os.environ)) == 0
    assert time.monotonic() - start < 30
    assert children[0].poll() == -signal.SIGKILL
    assert signal.getsignal(signal.SIGTERM) is before  # this process's own handling put back
