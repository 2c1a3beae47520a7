"""vatl import: answers from an annotation tool (Label Studio, CVAT, SLEAP, DeepLabCut) into a run's pending query.

The answers go through the session's validation and update (:meth:`vatl.atl.session.ATLSession.update`:
transactional, every answer checked, nothing of a refused file taken); then the next query is written.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

HELP = "import answers exported from Label Studio, CVAT, SLEAP or DeepLabCut into a run (validated, then retrained)"
SOURCES = ("auto", "labelstudio", "cvat", "slp", "dlc")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("answers", type=Path, help="the tool's export: Label Studio JSON, CVAT COCO Keypoints 1.0 JSON, "
                                              "a SLEAP .slp, or a DeepLabCut CollectedData_*.csv|.h5")
    p.add_argument("--run", type=Path, required=True, help="the run folder (made by `vatl run --oracle person`)")
    p.add_argument("--from", dest="source", choices=SOURCES, default="auto",
                   help="the tool (default: from the file: .slp, CollectedData_*, a JSON list = Label Studio, "
                        "a COCO object = CVAT)")
    p.add_argument("--image-root", type=Path, default=None,
                   help="cvat: the folder its image names are relative to (default: the video's image root)")
    p.add_argument("--device", default=None, help="where the run retrains: cpu, cuda, cuda:N or auto (default: the run's own)")


def detect_source(path: Path) -> str:
    """The tool that wrote ``path`` (see ``--from``)."""
    from vatl.data.formats import tool_format

    tool = tool_format(path)
    if tool is not None:
        return tool
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON file, .slp or CollectedData file ({exc})") from None
    if isinstance(doc, list):
        return "labelstudio"
    if isinstance(doc, dict) and "annotations" in doc and "categories" in doc:
        return "cvat"
    raise ValueError(f"{path}: neither a Label Studio export (a list of tasks) nor a COCO Keypoints file; "
                     "name the tool with --from")


def read_answers(path: Path, source: str, video: Any, image_root: Path | None = None) -> dict[int, Any]:
    if source == "labelstudio":
        from vatl.data.formats.labelstudio import read_labelstudio_answers

        return read_labelstudio_answers(path, video)
    if source == "cvat":
        from vatl.data.formats.cvat import read_cvat_answers

        return read_cvat_answers(path, video, image_root)
    from vatl.data.formats.sleap import read_dlc_answers, read_slp_answers

    return (read_slp_answers if source == "slp" else read_dlc_answers)(path, video)


def run(args: argparse.Namespace) -> int:
    from vatl.atl.answers import AnswerError
    from vatl.atl.oracle import write_query_file
    from vatl.atl.runner import open_session, spec_from_run_folder
    from vatl.commands._progress import CycleTable
    from vatl.errors import UserError
    from vatl.estimator.device import resolve_device

    if args.device is not None:
        resolve_device(args.device)  # a clear error before anything is read
    source = detect_source(args.answers) if args.source == "auto" else args.source
    spec = spec_from_run_folder(args.run)
    if args.device is not None:
        spec = replace(spec, device=args.device)
    table = CycleTable(title=f"vatl import · {args.answers.name} ({source})")
    with open_session(spec, progress=table.on_event) as session, table:
        pending = session.query()
        if pending is None:
            print(f"{args.run}: the run is finished; nothing to import")
            return 0
        answers = read_answers(args.answers, source, session.video, args.image_root)
        queried = set(pending.indices.tolist())
        earlier = sorted(i for i in answers if i not in queried and (i in session.labels or i in session.rejected))
        for i in earlier:  # a tool's project keeps the tasks of earlier cycles: their answers were taken then
            del answers[i]
        if not answers:
            raise UserError(f"{args.answers}: no answer to the {len(pending.indices)} samples queried in cycle "
                            f"{pending.cycle}" + (f" ({len(earlier)} answers of earlier cycles)" if earlier else "")
                            + "; nothing was taken")
        try:
            record = session.update(answers)
        except AnswerError as exc:
            raise ValueError(f"{args.answers}: {exc}") from None
        nxt = session.query()
        if nxt is not None:
            query = Path(args.run) / f"query_cycle_{nxt.cycle:02d}.json"
            write_query_file(query, session.video, nxt.indices, nxt.keypoints[nxt.indices])
    print(f"cycle {record.cycle}: {record.num_answered} labels, {record.num_rejected} rejected, "
          f"{record.num_skipped} back to the pool" + (f"; {len(earlier)} answers of earlier cycles left as they were"
                                                      if earlier else ""))
    if nxt is None:
        print(f"the run is finished: {args.run}/results.json")
    else:
        print(f"next: {len(nxt.indices)} samples in {query}; export them with "
              f"`vatl export {query} --to {source} --out ...`")
    return 0
