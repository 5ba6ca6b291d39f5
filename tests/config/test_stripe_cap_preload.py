"""gunicorn refuses to serve with a Stripe cap that leaves no thread for pages, from the command line too, and when
it preloads the app (`--preload`), where settings are read before on_starting runs. (A review found the preloaded
case served.)"""

import socket
import subprocess
import sys
from pathlib import Path

from tests.server_config import ROOT, clean_env, stop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(*flags: str) -> tuple[int | None, str]:
    """Start gunicorn as production does, plus `flags`; its exit code within 20 s (None: still serving) and stderr."""
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{_free_port()}", "--workers", "1", *flags],
        cwd=ROOT, env=clean_env(DJANGO_ALLOWED_HOSTS="127.0.0.1"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        code = None
        stop(server)
    return code, server.stderr.read()


def test_one_thread_from_the_command_line_is_refused():
    code, stderr = _gunicorn("--threads", "1")
    assert code is not None and "GUNICORN_THREADS is 1" in stderr


def test_one_thread_is_refused_when_gunicorn_preloads_the_app_too():
    code, stderr = _gunicorn("--preload", "--threads", "1")
    assert code is not None and "GUNICORN_THREADS is 1" in stderr
