"""vatl sigmas: per-joint OKS sigmas of a keypoint set from repeated labels or from one labeled clip."""

from __future__ import annotations

import argparse
from pathlib import Path

from vatl.commands._args import positive_int

HELP = "estimate per-joint OKS sigmas (as COCO did) from repeated labels of a clip, or from one labeled clip"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("videos", type=Path, nargs="+",
                   help="annotation file(s) vatl reads: two or more labelings of the same clip (repeated labels, "
                        "COCO's method), or one labeled clip (label spread along its tracks: an upper bound)")
    p.add_argument("--out", type=Path, default=None, help="write the estimate as JSON here")
    p.add_argument("--write-category", type=Path, default=None, metavar="JSON",
                   help="write a copy of the first file with the estimated sigmas in its category's 'sigmas' "
                        "field (vatl then uses them: the run reports \"the category's sigmas field\")")
    p.add_argument("--min-count", type=positive_int, default=10,
                   help="fewest measurements for a joint's estimate; joints with fewer keep their sigma")
    p.add_argument("--image-root", type=Path, default=None, help="image root of the files (as for vatl run)")


def run(args: argparse.Namespace) -> int:
    from vatl.data.formats import load_video, require_samples
    from vatl.fileio import write_json
    from vatl.metrics.sigmas import sigmas_from_clip, sigmas_from_repeats

    options = {} if args.image_root is None else {"image_root": args.image_root}
    videos = [require_samples(load_video(p, **options)) for p in args.videos]
    if len(videos) > 1:
        estimate = sigmas_from_repeats(videos, min_count=args.min_count)
        how = f"repeated labels ({len(videos)} labelings)"
    else:
        estimate = sigmas_from_clip(videos[0], min_count=args.min_count)
        how = "label spread along the tracks of one clip (an upper bound: motion adds to it)"
    ks = videos[0].keypoint_set
    print(f"OKS sigmas of {ks.name!r} from {how}; before: {ks.sigma_source or 'as read'}")
    for name, old, new, n, est in zip(ks.keypoints, ks.sigmas, estimate.sigmas, estimate.counts, estimate.estimated):
        print(f"  {name:<20} {new:.4f}  (n = {n}{'' if est else f', too few: kept {old:.4f}'})")
    if args.out is not None:
        write_json(args.out, {**estimate.to_dict(), "from": [str(p) for p in args.videos]})
        print(f"wrote {args.out}")
    if args.write_category is not None:
        print(f"wrote {write_category_sigmas(args.videos[0], args.write_category, estimate.keypoints, estimate.sigmas, args.image_root)}")
    return 0


def write_category_sigmas(source: Path, out: Path, names: tuple[str, ...], sigmas, image_root: Path | None = None
                          ) -> Path:
    """A copy of the annotation JSON ``source`` whose keypoint category (the one with ``names``, compared as
    the readers do) has ``sigmas``; written by the format's writer, so its image paths resolve from ``out``."""
    import copy

    from vatl.data.formats import load_video, save_video
    from vatl.data.formats._categories import normalise_name

    if Path(out).resolve() == Path(source).resolve():
        raise ValueError(f"{out}: would overwrite the input file; write the copy elsewhere")
    video = load_video(source, **({} if image_root is None else {"image_root": image_root}))
    data = copy.deepcopy(video.source.get("json"))
    if not isinstance(data, dict):
        raise ValueError(f"{source}: not a JSON annotation file; put the sigmas into its category by hand")
    wanted = [normalise_name(n) for n in names]
    hits = [c for c in data.get("categories") or [] if isinstance(c, dict) and isinstance(c.get("keypoints"), list)
            and [normalise_name(n) for n in c["keypoints"]] == wanted]
    if not hits:
        raise ValueError(f"{source}: no category with the keypoints {list(names)} to write sigmas into "
                         "(a file without categories: add one with 'keypoints' and 'sigmas')")
    for cat in hits:
        cat["sigmas"] = [round(float(s), 5) for s in sigmas]
    video.source = {**video.source, "json": data}
    return save_video(video, out)
