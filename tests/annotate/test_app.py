"""The HTTP routes over a real annotator (the tiny run), through Starlette's test client."""

import json
import time

import numpy as np
import pytest
from starlette.testclient import TestClient

from vatl.annotate.app import build_app
from vatl.annotate.drafts import draft_path

TOKEN = "k" * 32


@pytest.fixture()
def client(annotator):
    with TestClient(build_app(annotator, TOKEN), headers={"X-Vatl-Token": TOKEN}) as c:
        yield c


def _wait_idle(client, timeout=60):
    end = time.monotonic() + timeout
    while (status := client.get("/api/status").json())["busy"]:
        assert time.monotonic() < end, "the job did not end"
        time.sleep(0.05)
    return status


def test_the_page_its_files_and_the_meta_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"app.js?token={TOKEN}" in page.text and "__TOKEN__" not in page.text
    assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/app.css").status_code == 200
    assert client.get("/api/meta").json()["keypoints"][0] == "nose"


def test_every_route_needs_the_token(annotator):
    with TestClient(build_app(annotator, TOKEN)) as anonymous:
        for method, path in (("GET", "/"), ("GET", "/api/query"), ("GET", "/api/samples/0/image"),
                             ("POST", "/api/submit"), ("PUT", "/api/answers/0"), ("POST", "/api/stop")):
            assert anonymous.request(method, path).status_code == 401, path
            assert anonymous.request(method, path, headers={"X-Vatl-Token": "w" * 32}).status_code == 403, path
    assert annotator.session.next_cycle == 0 and not annotator.board.busy  # nothing was submitted


def test_an_answer_is_checked_and_saved_and_a_bad_one_is_refused_with_nothing_stored(client, annotator):
    query = client.get("/api/query").json()
    first, second = (s["sample"] for s in query["samples"][:2])
    ok = client.put(f"/api/answers/{first}", json={"answer": "accept"})
    assert ok.status_code == 200 and ok.json()["answered"] == 1
    path = draft_path(annotator.session.store.root, 0)
    saved = path.read_bytes()
    bad_label = [[10.0, 10.0, 2.0]] * 16  # one row short
    refused = [
        client.put(f"/api/answers/{second}", json={"answer": bad_label}),
        client.put(f"/api/answers/{second}", json={"answer": [[1e6, 0.0, 2.0]] * 17}),
        client.put(f"/api/answers/{second}", json={"answer": "perhaps"}),
        client.put("/api/answers/29999", json={"answer": "accept"}),
    ]
    assert [r.status_code for r in refused] == [422] * 4
    assert "needs 17 rows" in refused[0].json()["error"] and "lies outside" in refused[1].json()["error"]
    assert "unknown answer 'perhaps'" in refused[2].json()["error"] and "was not queried" in refused[3].json()["error"]
    assert refused[1].json()["problems"][0].startswith(f"sample {second}, joint 0 (nose)")
    for body, status in (({"answer": 3}, 400), ({"label": "accept"}, 400), ({"answer": "skip", "x": 1}, 400)):
        assert client.put(f"/api/answers/{second}", json=body).status_code == status
    assert client.put(f"/api/answers/{second}", content=b"{oops", headers={"content-type": "application/json"}).status_code == 400
    assert client.put(f"/api/answers/{second}", content=b'{"answer": "skip"}',
                      headers={"content-type": "text/plain"}).status_code == 415
    assert client.put(f"/api/answers/{second}", content=b"[" * 70000,
                      headers={"content-type": "application/json"}).status_code == 413
    nested = client.put(f"/api/answers/{second}", content=b"[" * 30000 + b"]" * 30000,  # under the size limit
                        headers={"content-type": "application/json"})
    assert nested.status_code == 400 and "nested too deeply" in nested.json()["error"]
    assert path.read_bytes() == saved  # none of the refused requests stored anything
    assert client.get("/api/query").json()["answers"] == {str(first): "accept"}


def test_images_are_served_by_sample_id_only(client, tiny_video):
    assert client.get("/api/samples/3/image").headers["content-type"] == "image/jpeg"
    assert client.get(f"/api/samples/{tiny_video.num_samples}/image").status_code == 404
    for path in ("/api/samples/-1/image", "/api/samples/..%2F..%2Fetc%2Fpasswd/image", "/api/samples/%2Fetc%2Fpasswd/image",
                 "/api/image?path=/etc/passwd", "/api/samples/0/image/../../../../etc/passwd", "/static/../../etc/passwd"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"root:" not in response.content


def test_undo_submit_and_the_next_query(client, annotator, tiny_video):
    query = client.get("/api/query").json()
    samples = [s["sample"] for s in query["samples"]]
    label = np.array(tiny_video.keypoints[samples[0]])
    label[label[:, 2] > 0, 2] = 1  # every labeled joint occluded
    client.put(f"/api/answers/{samples[0]}", json={"answer": label.tolist()})
    client.put(f"/api/answers/{samples[1]}", json={"answer": "reject"})
    client.put(f"/api/answers/{samples[2]}", json={"answer": "skip"})
    undone = client.post("/api/undo").json()
    assert (undone["sample"], undone["answer"], undone["answered"]) == (samples[2], "skip", 2)
    assert client.post("/api/submit").status_code == 202
    status = _wait_idle(client)
    assert status["error"] is None and status["next_cycle"] == 1 and status["has_query"]
    state = json.loads((annotator.session.store.root / "state.json").read_text())
    assert list(state["labels"]) == [str(samples[0])] and state["rejected"] == {str(samples[1]): 0}
    assert np.allclose(state["labels"][str(samples[0])]["keypoints"], label)
    nxt = client.get("/api/query").json()
    assert nxt["cycle"] == 1 and nxt["answered"] == 0 and not set(s["sample"] for s in nxt["samples"]) & {samples[0], samples[1]}
    run = client.get("/api/run").json()
    assert run["cycles"][0]["num_answered"] == 1 and run["cycles"][0]["num_rejected"] == 1


def test_requests_during_retraining_get_409(client, annotator, monkeypatch):
    import threading

    gate = threading.Event()
    original = annotator.session.update

    def slow_update(answers):
        gate.wait(30)
        return original(answers)

    monkeypatch.setattr(annotator.session, "update", slow_update)
    first = client.get("/api/query").json()["samples"][0]["sample"]
    client.put(f"/api/answers/{first}", json={"answer": "accept"})
    assert client.post("/api/submit").status_code == 202
    try:
        for method, path, body in (("GET", "/api/query", None), ("PUT", f"/api/answers/{first}", {"answer": "skip"}),
                                   ("POST", "/api/undo", None), ("POST", "/api/submit", None), ("POST", "/api/stop", None)):
            response = client.request(method, path, json=body)
            assert response.status_code == 409 and "busy" in response.json()["error"], path
        assert client.get("/api/status").json()["busy"] and client.get("/api/run").status_code == 200
    finally:
        gate.set()
    assert _wait_idle(client)["next_cycle"] == 1


def test_stop_exports_the_poses_and_ends_the_run(client, annotator):
    first = client.get("/api/query").json()["samples"][0]["sample"]
    client.put(f"/api/answers/{first}", json={"answer": "accept"})
    assert client.post("/api/stop").status_code == 202
    status = _wait_idle(client)
    assert status["finished"] and not status["has_query"]
    run = client.get("/api/run").json()
    assert run["final"]["reason"] == "stopped by the annotator" and run["export"] == ["poses_posetrack21.json"]
    assert run["labeled"] == 1  # the answer given before stopping was taken
    assert client.get("/api/query").status_code == 409
    assert client.post("/api/stop").json() == {"finished": True}
