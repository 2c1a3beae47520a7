"""Serving the annotator with uvicorn on a socket bound first (so that the URL, with port 0's real port
and the token, is known before serving starts). 127.0.0.1 by default: only this machine can connect.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn

from vatl.annotate import DEFAULT_HOST, DEFAULT_PORT
from vatl.annotate.annotator import Annotator
from vatl.annotate.app import build_app
from vatl.annotate.security import new_token


class AnnotatorServer:
    """The annotator's web server. ``bind()`` takes the port (0: any free one) and returns the URL with the
    token; then ``serve()`` (blocking; Ctrl-C ends it) or ``start()`` / ``stop()`` (a thread, for tests)."""

    def __init__(self, annotator: Annotator, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 token: str | None = None) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is not a TCP port (0..65535; 0: any free port)")
        self.annotator = annotator
        self.host = host
        self.port = port
        self.token = token or new_token()
        self.app = build_app(annotator, self.token)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> str:
        """Take the port; the page's URL (with the token). OSError naming the address when it is taken."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen on {self.host}:{self.port} ({exc.strerror}); "
                                     "choose another --port (0: any free port)") from None
        sock.listen(64)
        self._socket = sock
        self.port = sock.getsockname()[1]
        return self.url

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/?token={self.token}"

    def _uvicorn(self) -> uvicorn.Server:
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        return self._server

    def serve(self) -> None:
        """Serve until interrupted (Ctrl-C or SIGTERM)."""
        if self._socket is None:
            self.bind()
        self._uvicorn().run(sockets=[self._socket])

    def start(self) -> str:
        """Serve in a background thread; returns the URL once the server accepts connections."""
        url = self.url if self._socket is not None else self.bind()
        server = self._uvicorn()
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [self._socket]}, daemon=True,
                                        name="vatl-annotate-server")
        self._thread.start()
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the annotator's server did not start")
            self._thread.join(0.02)
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> AnnotatorServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
