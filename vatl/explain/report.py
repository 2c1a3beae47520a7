"""``vatl explain``: one cycle's report from the run folder alone (``results.json`` and the saved cycles).

:func:`write_report` writes ``<run>/explain.html`` (self-contained: images embedded) and the PNGs under
``<run>/explain/report_cycle_XX/``:

- ``selected.png``: the cycle's query as crops with M_c's prediction, in the order chosen, each with
  THC, WPU, its distance to the labeled set and (with ground truth) its true OKS;
- ``compare_<criterion>.png``: the same for other criteria ranked from the saved pass (:mod:`.rank`);
- ``heatmaps.png``: t−1, t, t+1 heatmap strips of the highest- and lowest-THC pool samples;
- ``embedding.png`` (the cycle), ``embedding_cycles.png`` (every saved cycle) and ``pick_position.png``
  (per cycle: where in the pool the picks lie by uncertainty and by distance);
- ``curves.png``: AP, OKS > θ, G_c, E_c, |R|, the stopping criteria and the time per phase per cycle.

Every figure is drawn from saved data; only the crops of compared criteria's picks that the cycle did
not keep are cut from the video's frames, when they can still be read (else a grey tile says so).
The run folder is only read (it may be in use by a running session); the outputs are written atomically.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vatl.atl.records import CycleRecord, cycle_records
from vatl.atl.run_store import read_json_file
from vatl.data.video import Video
from vatl.errors import UserError
from vatl.explain import html as H
from vatl.explain.crops import cut_crops, display_affines, heatmap_to_display
from vatl.explain.draw_crops import Tile, crop_grid
from vatl.explain.draw_curves import curves_figure
from vatl.explain.draw_embedding import EmbeddingPanel, embedding_figure, embedding_grid, pick_position_figure
from vatl.explain.draw_heatmaps import Strip, StripPanel, changing_joint, heatmap_strips
from vatl.explain.embedding import embed, plot_subset
from vatl.explain.rank import (
    GroupSummary,
    distance_to_labeled,
    parse_compare,
    pick_distance_percentile,
    pick_distances,
    pool_percentile,
    rank,
    saved_criterion,
    uncertainty,
)
from vatl.explain.record import CycleData, cycle_path, explain_dir, load_cycle, saved_cycles
from vatl.fileio import write_atomic

log = logging.getLogger(__name__)

REPORT_FILE = "explain.html"
MAX_CROPS = 24
MAX_TABLE_ROWS = 200
Progress = Callable[[str], None]


@dataclass
class Report:
    """What :func:`write_report` wrote: the HTML, the PNGs by name, the cycle, the embedding method, notes,
    and per crop figure how many of its tiles had no image (neither saved nor readable from the frames)."""

    html: Path
    figures: dict[str, Path]
    cycle: int
    embedding: str
    notes: list[str] = field(default_factory=list)
    missing_images: dict[str, int] = field(default_factory=dict)


def report_path(run_dir: str | Path) -> Path:
    """``<run>/explain.html``."""
    return Path(run_dir) / REPORT_FILE


def figures_dir(run_dir: str | Path, cycle: int) -> Path:
    return explain_dir(run_dir) / f"report_cycle_{int(cycle):02d}"


def write_report(run_dir: str | Path, cycle: int | None = None, compare: str = "", embedding: str = "auto",
                 video: Video | None = None, all_cycles: bool = True, progress: Progress | None = None) -> Report:
    """Draw cycle ``cycle`` (default: the last saved one) of the run in ``run_dir``; see the module docstring.

    compare: criteria to rank from the saved pass (``"mpe,coreset"``, see :func:`vatl.explain.rank.parse_compare`).
    embedding: ``auto`` | ``densmap`` | ``pca``. video: the run's video, for crops the cycle did not keep
    (default: read from ``inputs.json`` when needed). all_cycles: also embed every other saved cycle.
    """
    say = progress or (lambda step: None)
    root = Path(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such run folder")
    results_file, config_file = root / "results.json", root / "config.json"
    if results_file.is_file():
        results = read_json_file(results_file, "run results")
    elif config_file.is_file():  # the first cycle is being answered: no finished cycle yet
        results = {"config": read_json_file(config_file, "run config"), "cycles": []}
    else:
        raise UserError(f"{root}: not a run folder (no results.json or config.json); make one with "
                        f"`vatl run VIDEO --out {root}`")
    if not isinstance(results, dict) or not isinstance(results.get("config", {}), dict):
        raise ValueError(f"{results_file}: expected a JSON object with an object 'config'")
    records = cycle_records(results)
    cycles = saved_cycles(root)
    if not cycles:
        raise UserError(f"{root}: no explain data ({explain_dir(root)}/cycle_XX.npz); it is saved by each cycle of "
                        "runs made by this vatl version: run the command again on a new folder")
    if cycle is None:
        cycle = cycles[-1]
    elif cycle not in cycles:
        raise ValueError(f"{root}: no explain data for cycle {cycle}; saved cycles: {', '.join(map(str, cycles))}")
    comparisons = parse_compare(compare)
    data = load_cycle(cycle_path(root, cycle))
    if data.num_samples != results.get("num_samples", data.num_samples):
        raise ValueError(f"{data.path}: {data.num_samples} samples, but {results_file} has {results.get('num_samples')}")
    out = figures_dir(root, cycle)
    ks = data.keypoint_set
    theta = float(results.get("config", {}).get("theta", 0.6))
    notes: list[str] = []
    pngs: dict[str, bytes] = {}
    frames = _FrameSource(root, data, video)

    c = uncertainty(data)
    d_labeled = distance_to_labeled(data)
    missing: dict[str, int] = {}
    say("selected crops")
    order = data.selected
    tiles = _tiles(data, order[:MAX_CROPS], c, d_labeled, frames)
    missing["selected"] = sum(t.image is None for t in tiles)
    pngs["selected"] = crop_grid(tiles, ks, out / "selected.png",
                                 f"cycle {cycle}: the {len(order)} selected by {data.meta['criterion']}"
                                 + (f" (first {MAX_CROPS} shown)" if len(order) > MAX_CROPS else "") + ", in order")
    summaries = [GroupSummary.of(f"{data.meta['criterion']} (the run)", data, order, c, d_labeled)]
    compared: list[tuple[str, np.ndarray]] = []
    for name, options in comparisons:
        say(f"ranking by {name}")
        picks = rank(data, name, options)
        label = name + ("" if not options else ":" + ";".join(f"{k}={v}" for k, v in options.items()))
        compared.append((label, picks))
        summaries.append(GroupSummary.of(label, data, picks, c, d_labeled))
        key = f"compare_{_safe(label)}"
        tiles = _tiles(data, picks[:MAX_CROPS], c, d_labeled, frames)
        missing[key] = sum(t.image is None for t in tiles)
        pngs[key] = crop_grid(tiles, ks, out / f"{key}.png",
                              f"cycle {cycle}: the top {len(picks)} of {label} on the same pass"
                              + (f" (first {MAX_CROPS} shown)" if len(picks) > MAX_CROPS else ""))

    say("heatmap strips")
    strips = _strips(data)
    slots = np.flatnonzero(ks.annotated_slots)
    pngs["heatmaps"] = heatmap_strips(strips, list(ks.keypoints), slots, out / "heatmaps.png",
                                      f"cycle {cycle}: heatmaps of the joint that changes most, highest and lowest THC")

    say(f"embedding ({embedding})")
    panel, method = _embedding_panel(data, c, embedding)
    pngs["embedding"] = embedding_figure(panel, method, out / "embedding.png")
    positions = _pick_positions(root, cycles, cycle, data, c, d_labeled)
    pngs["pick_position"] = pick_position_figure(cycles, *positions, out / "pick_position.png", current=cycle)
    if all_cycles and len(cycles) > 1:
        panels = []
        for other in cycles:
            say(f"embedding of cycle {other}")
            d = data if other == cycle else load_cycle(cycle_path(root, other))
            panels.append(_embedding_panel(d, uncertainty(d), embedding)[0])
        pngs["embedding_cycles"] = embedding_grid(panels, method, out / "embedding_cycles.png")

    say("curves")
    pngs["curves"] = curves_figure(records, theta, out / "curves.png", current=cycle, final=results.get("final"))
    figures = {name: out / f"{name}.png" for name in pngs}
    notes.extend(frames.notes)
    body = _html_body(root, results, records, data, c, d_labeled, summaries, compared, strips, method, positions,
                      cycles, pngs, notes)
    html_path = write_atomic(report_path(root), H.page(f"vatl explain · {data.meta['video']} · cycle {cycle}", body,
                                                     meta={"vatl-explain-cycle": str(cycle)}))
    return Report(html_path, figures, cycle, method, notes, missing)


# ----------------------------------------------------------------------------------------- pieces
class _FrameSource:
    """Crops for samples a cycle did not keep: cut from the run's video frames, loaded once when needed."""

    def __init__(self, root: Path, data: CycleData, video: Video | None) -> None:
        self.root, self.data, self.video, self.tried = root, data, video, video is not None
        self.notes: list[str] = []

    def crops(self, samples: np.ndarray) -> list[np.ndarray | None]:
        video = self._video()
        out = cut_crops(video, samples) if video is not None else [None] * len(samples)
        if video is not None and any(o is None for o in out) and not self.notes:
            self.notes.append("some frames of the video could not be read: their crops are grey tiles")
        return out

    def _video(self) -> Video | None:
        if not self.tried:
            self.tried = True
            self.video = _load_run_video(self.root, self.notes)
        if self.video is not None and (self.video.num_samples != self.data.num_samples
                                       or not np.allclose(self.video.boxes, self.data.boxes, atol=0.05)):
            self.notes.append(f"the video {self.video.name!r} no longer matches the run's samples: crops not cut")
            self.video = None
        return self.video


def _load_run_video(root: Path, notes: list[str]) -> Video | None:
    """The run's video from ``inputs.json`` (no model is loaded), or None with a note."""
    from vatl.atl.runner import spec_from_run_folder
    from vatl.video.ingest import load_input

    try:
        spec = spec_from_run_folder(root)
        options = {} if spec.image_root is None else {"image_root": spec.image_root}
        return load_input(spec.video_path, spec.video, spec.out_dir, None, **options)
    except Exception as exc:  # noqa: BLE001 - any reason the video cannot be read only costs those crops
        notes.append(f"crops of samples the cycle did not keep are grey tiles: the video is not available ({exc})")
        return None


def _tiles(data: CycleData, samples: np.ndarray, c: np.ndarray, d_labeled: np.ndarray, frames: _FrameSource
           ) -> list[Tile]:
    samples = np.asarray(samples, dtype=np.int64)
    images = [data.crop(int(s)) for s in samples]
    missing = [j for j, im in enumerate(images) if im is None]
    if missing:
        for j, im in zip(missing, frames.crops(samples[missing])):
            images[j] = im
    affines = display_affines(data.boxes[samples])
    picks = pick_distances(data, samples)
    wpu = data.scores.get("wpu")
    tiles = []
    for j, s in enumerate(samples.tolist()):
        lines = [f"#{j + 1} s{s} f{data.frame_index[s]} t{data.track_id[s]}",
                 f"THC {_num(data.scores.get('thc'), s, 1)} WPU {_num(wpu, s, 4)}",
                 f"C {c[s]:.2f} dL {_fmt(d_labeled[s], 2)} dpick {_fmt(picks[j], 2)}"]
        if data.has_ground_truth:
            lines.append(f"true OKS {_fmt(data.true_oks[s], 2)}")
        tiles.append(Tile(images[j], affines[j], data.keypoints[s], lines))
    return tiles


def _strips(data: CycleData) -> list[Strip]:
    meta = data.meta
    out = []
    for kind, samples in (("high", meta["high_thc"]), ("low", meta["low_thc"])):
        for s in samples:
            panels = []
            for i in (int(data.prev[s]), int(s), int(data.next[s])):
                if i < 0:
                    panels.append(StripPanel(None, None, None, None, None))
                    continue
                affine = heatmap_to_display(data.boxes[[i]], tuple(meta["input_size"]), tuple(meta["heatmap_size"]))[0]
                panels.append(StripPanel(i, int(data.frame_index[i]), data.heatmap(i), data.crop(i), affine))
            out.append(Strip(kind, float(data.scores["thc"][s]), tuple(panels)))
    return out


def _embedding_panel(data: CycleData, c: np.ndarray, method: str) -> tuple[EmbeddingPanel, str]:
    selected = np.zeros(data.num_samples, dtype=bool)
    selected[data.selected] = True
    shown = plot_subset(data.num_samples, selected | data.labeled, seed=int(data.meta["seed"]))
    coords, used = embed(data.features[shown], method, seed=int(data.meta["seed"]))
    g = data.meta.get("G_prev")
    title = (f"cycle {data.cycle} · G prev {'–' if g is None else f'{g:.2f}'}\n{len(data.selected)} selected, "
             f"{data.labeled.sum()} labeled, {data.pool.sum()} in the pool")
    if len(shown) < data.num_samples:
        title += f"\n{len(shown)} of {data.num_samples} shown (all selected and labeled)"
    return EmbeddingPanel(coords, shown, data.labeled, data.pool, selected, c, title), used


def _pick_positions(root: Path, cycles: Sequence[int], current: int, data: CycleData, c: np.ndarray,
                    d_labeled: np.ndarray) -> tuple[list, list, list, list]:
    """Per saved cycle: pool percentile of the picks' C, of their distance to L and of their distance at
    pick time (:func:`~vatl.explain.rank.pick_distance_percentile`), and G of the previous cycle."""
    c_pct, d_pct, k_pct, g = [], [], [], []
    for cyc in cycles:
        d = data if cyc == current else load_cycle(cycle_path(root, cyc))
        cc, dl = (c, d_labeled) if cyc == current else (uncertainty(d), distance_to_labeled(d))
        c_pct.append(pool_percentile(cc, d.pool, d.selected))
        d_pct.append(pool_percentile(dl, d.pool, d.selected))
        k_pct.append(pick_distance_percentile(d, d.selected))
        g.append(d.meta.get("G_prev"))
    return c_pct, d_pct, k_pct, g


def _duw_sentence(data: CycleData) -> str | None:
    """How DUW weighed distance and uncertainty in this cycle, when the run's criterion is a DUW one."""
    name = data.meta["criterion"]
    if "+duw" not in name or name.endswith("+lap"):
        return None
    try:
        a, b = saved_criterion(name).weights(data.meta.get("G_prev"))
    except (ValueError, AttributeError):
        return None
    g = data.meta.get("G_prev")
    return (f"{name} picks by (1 − G)·distance + G·λ·C (Eq. 9, distances normalised, λ = 1 unless the run set "
            f"another): with G of the previous cycle = {'none (cycle 0: G = 0)' if g is None else f'{g:.3f}'}, the "
            f"distance term weighs {a:.2f} and the uncertainty term {b:.2f}.")


def _html_body(root: Path, results: dict[str, Any], records: list[CycleRecord], data: CycleData, c: np.ndarray,
               d_labeled: np.ndarray, summaries: list[GroupSummary], compared: list[tuple[str, np.ndarray]],
               strips: list[Strip], method: str, positions: tuple[list, list, list, list], cycles: Sequence[int],
               pngs: dict[str, bytes], notes: list[str]) -> list[str]:
    meta, cycle = data.meta, data.cycle
    rec = next((r for r in records if r.cycle == cycle), None)
    gt = data.has_ground_truth
    t = H.text
    body = [f"<h1>Why these samples? {t(meta['video'])} · cycle {cycle}</h1>",
            f"<p class=\"meta\">run <code>{t(root)}</code> · criterion <b>{t(meta['criterion'])}</b> · "
            f"N = {data.num_samples} · labeled before the query {data.labeled.sum()} ({meta['labeled_percent']:.1f} %) · "
            f"rejected {data.rejected.sum()} · selected {len(data.selected)} · G of the previous cycle "
            f"{H.fmt(meta.get('G_prev'))} · saved cycles {', '.join(map(str, cycles))} · embedding: {t(method)}</p>"]
    if rec is not None and rec.G is not None:
        body.append(f"<p class=\"meta\">answers of this cycle: G_c = {rec.G:.3f}, E_c = {rec.epochs} epochs on "
                    f"{rec.num_trained} samples (|R| = {rec.num_retrained_R})</p>")
    duw = _duw_sentence(data)
    if duw:
        body.append(f"<p>{t(duw)}</p>")
    body += [f"<p class=\"note\">{t(n)}</p>" for n in notes]

    body += ["<h2>The selected instances</h2>",
             "<p>M_c's prediction on each crop (joints coloured by confidence, red = low). THC: temporal heatmap "
             "continuity (higher = the heatmaps jump between frames); WPU: pose unnaturalness; C: THC+WPU normalised "
             "over the pool, DUW's uncertainty; dL: feature distance to the nearest labeled sample; dpick: distance "
             "to the labeled samples and the picks before it (what Core-Set maximises)"
             + ("; true OKS: of the prediction against ground truth (low = the model is wrong here)." if gt else ".")
             + "</p>", H.image(pngs["selected"], "selected crops")]
    body.append(_selection_table(data, data.selected, c, d_labeled, gt))

    heads = ["picks", "count", "mean THC", "mean WPU", "mean C", "C pool percentile", "mean dL", "dL pool percentile",
             "mean pairwise distance"] + (["mean true OKS"] if gt else [])
    rows = [[s.name, s.count, s.thc, s.wpu, s.uncertainty, s.uncertainty_percentile, s.distance, s.distance_percentile,
             s.spread] + ([s.true_oks] if gt else []) for s in summaries]
    body += ["<h2>Compared with other criteria on the same pass</h2>",
             "<p>Percentiles say where the picks lie in the pool (50 = as a random pick): an uncertainty criterion "
             "picks high C but may pick similar samples (small pairwise distance); a diversity criterion picks far "
             "from L (high dL) but possibly easy ones" + (" (high true OKS)" if gt else "") + "; the paper's Fig. 1.</p>",
             H.table(heads, rows)]
    if not compared:
        body.append("<p class=\"meta\">Add <code>--compare mpe,coreset</code> (any of random, lc, mpe, tpc, thc, wpu, "
                    "thc+wpu, kmeans, coreset, thc+duw, wpu+duw, thc+wpu+duw, oracle) to see their picks.</p>")
    for label, picks in compared:
        body += [f"<h3>{t(label)}</h3>", H.image(pngs[f"compare_{_safe(label)}"], f"top samples of {label}"),
                 "<details><summary>table</summary>" + _selection_table(data, picks, c, d_labeled, gt) + "</details>"]

    body += ["<h2>Heatmaps around the highest- and lowest-THC samples</h2>",
             "<p>The paper's Fig. 3: a consistent single peak across t−1, t, t+1 gives a low THC; peaks that move, "
             "spread or vanish give a high one. Each row shows the joint whose heatmap changes most.</p>",
             H.image(pngs["heatmaps"], "heatmap strips"),
             H.table(["kind", "sample", "THC", "joint changing most", "its SAD"],
                     [[s.kind, s.panels[1].sample, s.thc, *_joint(s, data)] for s in strips])]

    c_pct, d_pct, k_pct, g = positions
    body += ["<h2>The features: where the picks lie</h2>",
             f"<p>The paper's Fig. 5: {t(method)} of this cycle's features; circles are the newly selected samples, "
             "crosses the unlabeled ones not selected, colour the normalised uncertainty C, grey dots the labeled "
             "set. DUW should spread its picks over the pool while G is low and pick uncertain ones as G grows.</p>",
             H.image(pngs["embedding"], "feature embedding"), H.image(pngs["pick_position"], "pick positions"),
             "<p>Per cycle, where the picks lie in their pool (50 = as random): by uncertainty C, by distance to "
             "the labeled set L, and by distance to L and the picks before them at the moment of each pick (100 = "
             "always the farthest, as Core-Set picks; the first pick of cycle 0 has no distance).</p>",
             H.table(["cycle", "G prev", "C percentile", "dL percentile", "distance-at-pick percentile"],
                     [[cy, gg, cp, dp, kp] for cy, gg, cp, dp, kp in zip(cycles, g, c_pct, d_pct, k_pct)], digits=2)]
    if "embedding_cycles" in pngs:
        body.append(H.image(pngs["embedding_cycles"], "embeddings of every cycle"))

    body += ["<h2>The run, cycle by cycle</h2>",
             "<p>AP where ground truth exists, the share of samples with OKS above θ (<code>correct</code>), G_c, "
             "E_c, |R|, both stopping criteria and the time per phase, from the run's <code>results.json</code>.</p>",
             H.image(pngs["curves"], "per-cycle curves"),
             H.table(["cycle", "labeled %", "AP@0.6", "OKS>θ %", "G_c", "E_c", "|R|", "SC_All", "SC_Min", "t total s"],
                     [[r.cycle, r.labeled_percent, r.ap60, r.correct, r.G, r.epochs, r.num_retrained_R, r.sc_all_value,
                       r.sc_min_value, r.t_total] for r in records], digits=3)]
    final = results.get("final")
    if final:
        body.append(f"<p class=\"meta\">run finished: {t(final.get('reason'))} at {H.fmt(final.get('labeled_percent'), 1)} "
                    f"% labeled; AP@0.6 {H.fmt(final.get('AP@0.6'), 2)}</p>")
    body.append(f"<p class=\"meta\">made by <code>vatl explain {t(root)} --cycle {cycle}</code> from "
                f"<code>{t(data.path)}</code>; the PNGs are in <code>{t(figures_dir(root, cycle))}</code>.</p>")
    return body


def _selection_table(data: CycleData, order: np.ndarray, c: np.ndarray, d_labeled: np.ndarray, gt: bool) -> str:
    total = len(order)
    order = np.asarray(order, dtype=np.int64)[:MAX_TABLE_ROWS]
    picks = pick_distances(data, order)
    names = [n for n in ("thc", "wpu", "mpe", "lc", "tpc") if n in data.scores]
    heads = ["#", "sample", "frame", "track", *names, "C", "dL", "dpick"] + (["true OKS"] if gt else [])
    rows = [[j + 1, int(s), int(data.frame_index[s]), int(data.track_id[s]), *[float(data.scores[n][s]) for n in names],
             float(c[s]), float(d_labeled[s]), float(picks[j])] + ([float(data.true_oks[s])] if gt else [])
            for j, s in enumerate(order.tolist())]
    return H.table(heads, rows) + (f"<p class=\"meta\">first {MAX_TABLE_ROWS} of {total} rows</p>"
                                   if total > MAX_TABLE_ROWS else "")


def _joint(strip: Strip, data: CycleData) -> list[object]:
    ks = data.keypoint_set
    joint, sad = changing_joint(strip, np.flatnonzero(ks.annotated_slots))
    return ["–" if joint is None else ks.keypoints[joint], sad]


def _num(values: np.ndarray | None, i: int, digits: int) -> str:
    return "–" if values is None else _fmt(values[i], digits)


def _fmt(value: float, digits: int) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9+_.=-]", "_", name)
