"""vatl transfer: a checkpoint for another keypoint set (the backbone and decoder kept, a new output layer)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

HELP = "transfer a checkpoint (any backend) to the keypoint set of a video file: new output layer, joints mapped by name"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=Path, help="the pretrained checkpoint (vatl's, a converted BlazePose, a "
                                                 "published SimpleBaseline/MMPose state dict, …)")
    p.add_argument("--to", required=True, metavar="VIDEO|SET",
                   help="the target keypoint set: an annotation file vatl reads (its category's keypoints and "
                        "skeleton) or a built-in set (posetrack21, coco17, jrdb)")
    p.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    p.add_argument("--mapping", type=Path, default=None,
                   help="JSON {\"target slot\": \"source slot\" | [\"source\", ...] | null} for slots the names do "
                        "not match (a list averages filters, null starts fresh)")
    p.add_argument("--keypoints", default=None,
                   help="keypoint set of a published state dict without one (posetrack21, coco17, jrdb; "
                        "default: COCO-17 for 17 slots)")
    p.add_argument("--image-root", type=Path, default=None, help="image root of the --to file (as for vatl run)")


def target_set(text: str, image_root: Path | None = None):
    """The keypoint set named by ``--to``: a built-in set's name, else the set of an annotation file."""
    from vatl.skeletons import KEYPOINT_SETS

    if text in KEYPOINT_SETS:
        return KEYPOINT_SETS[text]
    from vatl.data.formats import load_video

    options = {} if image_root is None else {"image_root": image_root}
    return load_video(text, **options).keypoint_set


def run(args: argparse.Namespace) -> int:
    from vatl.estimator.checkpoint import load_checkpoint, save_checkpoint
    from vatl.estimator.transfer import load_mapping_file, transfer_model
    from vatl.skeletons import get_keypoint_set

    target = target_set(args.to, args.image_root)
    source_set = None if args.keypoints is None else get_keypoint_set(args.keypoints)
    model = load_checkpoint(args.checkpoint, keypoint_set=source_set)
    mapping = load_mapping_file(args.mapping) if args.mapping else None
    model, plan = transfer_model(model, target, mapping)
    command = "vatl " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    out = save_checkpoint(args.out, model, training={**model.record, "transfer_command": command,
                                                      "transferred_from": str(args.checkpoint)})
    print(f"{args.checkpoint} → {out}: {plan.summary()}")
    for line in plan.lines():
        print(f"  {line}")
    return 0
