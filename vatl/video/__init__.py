"""Clips in, poses out: the front end that turns a video file or a folder of frames into the samples the
ATL loop works on, and the files a user looks at afterwards.

:mod:`.reader` (frames through PyAV, exact indexing) → :mod:`.detection` (person detectors: the contract
and registry; :mod:`.blazepose_detector`, :mod:`.detection_files`) → :mod:`.tracking` (trackers of the
``trackers`` library) → :mod:`.ingest` (a clip → :class:`~vatl.data.video.Video`, cached in the run
folder) → the session → :mod:`.outputs` (poses files, overlay mp4; :mod:`.writer` encodes). :mod:`.evaluation`
compares detected people with a separate ground truth (benchmarks).
"""
