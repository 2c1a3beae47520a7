"""The JSON the page shows, built from the session (read only): the video's layout, the current query
with predictions and track neighbours, and the run (labeled %, G_c, AP per cycle, the stopping status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from vatl.atl.answers import accepted_label
from vatl.atl.records import CycleRecord, cycle_records

if TYPE_CHECKING:
    from vatl.annotate.drafts import AnswerDraft
    from vatl.atl.session import ATLSession, PendingQuery

CRITERION_NAMES = {"sc_all": "SC_All", "sc_min": "SC_Min"}


def meta_view(session: ATLSession) -> dict[str, Any]:
    """What does not change during a run: the video, the keypoint set (names, skeleton), the settings."""
    video, ks, config = session.video, session.video.keypoint_set, session.config
    return {"video": video.name, "run": session.store.root.name, "num_samples": video.num_samples,
            "num_frames": len(video.frames), "keypoint_set": ks.name, "keypoints": list(ks.keypoints),
            "skeleton": [list(e) for e in ks.skeleton], "flip_pairs": [list(p) for p in ks.flip_pairs],
            "annotatable": ks.annotated_slots.tolist(), "criterion": config.criterion, "theta": config.theta,
            "stop_criterion": config.stop_criterion, "stop_mode": config.stop_mode,
            "schedule": list(config.schedule), "has_ground_truth": video.has_ground_truth}


def query_view(session: ATLSession, pending: PendingQuery, draft: AnswerDraft,
               neighbours: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """The pending query: per sample its frame, track, box (x, y, w, h), the prediction (K, 3: x, y,
    confidence), the editor's starting label (K, 3: the prediction, v = 2 where "accept" would label the
    joint, else 0), the previous and next sample of its track; and the answers saved so far."""
    prev, nxt = neighbours
    samples = [dict(_sample(session, pending, i), initial=_initial_label(session, pending, i),
                    prev=_neighbour(session, pending, int(prev[i])), next=_neighbour(session, pending, int(nxt[i])))
               for i in pending.indices.tolist()]
    return {"cycle": pending.cycle, "samples": samples, "total": len(samples), "answered": len(draft.answers),
            "answers": {str(i): a for i, a in draft.answers.items()}, "submitted": draft.submitted,
            **_labeled(session)}


def _sample(session: ATLSession, pending: PendingQuery, i: int) -> dict[str, Any]:
    video = session.video
    frame = video.frames[int(video.frame_index[i])]
    return {"sample": i, "frame": int(video.frame_index[i]), "image_id": frame.image_id,
            "width": frame.width, "height": frame.height, "track": int(video.track_id[i]),
            "box": np.round(video.boxes[i], 2).tolist(), "prediction": np.round(pending.keypoints[i], 3).tolist()}


def _initial_label(session: ATLSession, pending: PendingQuery, i: int) -> list[list[float]]:
    label = pending.keypoints[i].copy()
    label[:, 2] = accepted_label(pending.keypoints[i], session.video, i)[:, 2]
    return np.round(label, 3).tolist()


def _neighbour(session: ATLSession, pending: PendingQuery, j: int) -> dict[str, Any] | None:
    return None if j < 0 else _sample(session, pending, j)


def _labeled(session: ATLSession) -> dict[str, Any]:
    people = session.num_people
    return {"labeled": len(session.labels), "num_people": people, "rejected": len(session.rejected),
            "labeled_percent": 100.0 * len(session.labels) / people if people else 100.0}


def run_view(session: ATLSession) -> dict[str, Any]:
    """The run so far: labeled %, one row per finished cycle (labeled %, answers, G_c, E_c, AP@0.6 raw and
    with labels when ground truth exists, both stopping values), the stopping status, the end."""
    results = session.results()
    records = cycle_records(results)
    cycles = [{"cycle": r.cycle, "labeled_percent": r.labeled_percent, "labeled_percent_after": r.labeled_percent_after,
               "num_queried": r.num_queried, "num_answered": r.num_answered, "num_skipped": r.num_skipped,
               "num_rejected": r.num_rejected, "G": r.G, "epochs": r.epochs, "epochs_planned": r.epochs_planned,
               "num_retrained_R": r.num_retrained_R, "ap60_raw": r.ap60_raw, "ap60": r.ap60,
               "sc_all_value": r.sc_all_value, "sc_all_met": r.sc_all_met, "sc_min_value": r.sc_min_value,
               "sc_min_met": r.sc_min_met, "t_retrain": r.t_retrain} for r in records]
    final = results.get("final")
    export = sorted(p.name for p in session.store.root.glob("poses_*.json")) if final else []
    return {**_labeled(session), "cycles": cycles, "has_ground_truth": session.video.has_ground_truth,
            "theta": session.config.theta, "stopping": stopping_status(records, session.config.stop_criterion,
                                                                       session.config.stop_mode, session.config.theta),
            "final": final, "stop": results.get("stop"), "export": export, "next_cycle": session.next_cycle,
            "num_cycles": len(session.config.schedule)}


def stopping_status(records: list[CycleRecord], criterion: str, mode: str, theta: float) -> dict[str, Any]:
    """The chosen stopping criterion's latest value against θ, as data and as one sentence."""
    name = CRITERION_NAMES.get(criterion, criterion)
    if mode == "off":
        return {"criterion": criterion, "met": None, "value": None, "cycle": None, "mode": mode,
                "text": f"{name}: off (not evaluated in this run)"}
    judged = [r for r in records if getattr(r, f"{criterion}_value", None) is not None]
    if not judged:
        return {"criterion": criterion, "met": None, "value": None, "cycle": None, "mode": mode,
                "text": f"{name}: not judged yet (no labeled sample); θ = {theta:g}"}
    last = judged[-1]
    value, met = getattr(last, f"{criterion}_value"), bool(getattr(last, f"{criterion}_met"))
    if criterion == "sc_all":
        text = (f"SC_All met: every labeled sample above θ = {theta:g}; lowest OKS {value:.3f}" if met else
                f"SC_All not met: a labeled sample is at OKS {value:.3f} ≤ θ = {theta:g}")
    else:
        text = (f"SC_Min met: the new labels' mean OKS {value:.3f} > θ = {theta:g}" if met else
                f"SC_Min not met: the new labels' mean OKS {value:.3f} ≤ θ = {theta:g}")
    text += f" (cycle {last.cycle}; " + ("the run ends when it is met)" if mode == "stop" else "reported only)")
    return {"criterion": criterion, "met": met, "value": value, "cycle": last.cycle, "mode": mode, "text": text}
