import socket
import urllib.error
import urllib.request

import pytest

from vatl.annotate.server import AnnotatorServer


def _status(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_server_listens_on_127_0_0_1_and_prints_a_url_with_its_token(annotator):
    with AnnotatorServer(annotator, port=0) as server:
        url = server.start()
        assert url == f"http://127.0.0.1:{server.port}/?token={server.token}" and server.port > 0
        assert _status(url) == 200
        assert _status(f"{server.base_url}/api/status") == 401
        assert _status(f"{server.base_url}/api/status", {"X-Vatl-Token": server.token}) == 200


def test_a_port_in_use_is_a_clear_error(annotator):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1:\d+ .*another --port"):
            AnnotatorServer(annotator, port=taken.getsockname()[1]).bind()
    finally:
        taken.close()


def test_each_server_has_its_own_random_token(annotator):
    assert AnnotatorServer(annotator, port=0).token != AnnotatorServer(annotator, port=0).token


def test_a_port_outside_0_to_65535_is_refused(annotator):
    with pytest.raises(ValueError, match="not a TCP port"):
        AnnotatorServer(annotator, port=70000)
