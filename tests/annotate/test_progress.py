from vatl.annotate.progress import ProgressBoard
from vatl.atl.records import CycleRecord


def test_the_board_follows_a_job_from_estimating_to_the_last_epoch():
    forwarded = []
    board = ProgressBoard(forward=lambda event, info: forwarded.append(event))
    assert not board.busy and board.snapshot()["phase"] == "idle"
    board.start_job("update")
    assert board.busy
    board.on_event("retrain", {"cycle": 2, "epochs": 7, "samples": 5})
    snap = board.snapshot()
    assert (snap["phase"], snap["epoch"], snap["epochs"], snap["cycle"]) == ("retraining", 0, 7, 2)
    board.on_event("epoch", {"cycle": 2, "epoch": 3, "epochs": 7, "loss": 0.5})
    snap = board.snapshot()
    assert (snap["epoch"], snap["epochs"], snap["loss"]) == (3, 7, 0.5)
    board.on_event("cycle_end", CycleRecord(cycle=2))
    board.on_event("cycle_start", {"cycle": 3, "labeled": 10})
    assert board.snapshot()["phase"] == "estimating" and board.snapshot()["cycle"] == 3
    board.on_event("phase", {"cycle": 3, "phase": "estimate", "seconds": 1.0})
    assert board.snapshot()["phase"] == "selecting"
    version = board.version
    board.end_job()
    assert not board.busy and board.version == version + 1 and board.snapshot()["error"] is None
    assert forwarded == ["retrain", "epoch", "cycle_end", "cycle_start", "phase"]


def test_a_failed_job_leaves_its_error_and_events_outside_a_job_change_nothing():
    board = ProgressBoard()
    board.on_event("epoch", {"cycle": 0, "epoch": 1, "epochs": 2, "loss": 1.0})
    assert board.snapshot()["phase"] == "idle"
    board.start_job("update")
    board.end_job("out of memory")
    assert board.snapshot()["error"] == "out of memory" and not board.snapshot()["busy"]


def test_a_real_update_reports_every_epoch_of_the_cycle(run_spec):
    """The session's retraining reports ("retrain", E_c) then ("epoch", k of E_c) for k = 1..E_c."""
    from vatl.atl.runner import open_session

    events = []
    with open_session(run_spec, progress=lambda e, info: events.append((e, info))) as session:
        pending = session.query()
        video = session.video
        record = session.update({int(i): video.keypoints[int(i)] for i in pending.indices})
    assert record.epochs == 2  # max_epochs of the small run (a random model is far from the labels)
    retrain = [info for e, info in events if e == "retrain"]
    epochs = [info for e, info in events if e == "epoch"]
    assert retrain == [{"cycle": 0, "epochs": 2, "samples": record.num_trained}]
    assert [(i["epoch"], i["epochs"]) for i in epochs] == [(1, 2), (2, 2)]
    assert [round(i["loss"], 12) for i in epochs] == [round(v, 12) for v in (record.loss_first, record.loss_last)]
