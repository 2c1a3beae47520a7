"""Why these samples? The paper's qualitative figures for any run, drawn from what each cycle saved.

Each cycle's :meth:`vatl.atl.session.ATLSession.query` saves, beside the run, what a report needs
(:mod:`.record`: ``<run>/explain/cycle_XX.npz``): per sample the pass's keypoints, features and every
heatmap criterion's score (LC, MPE, THC, TPC; WPU from the keypoints), the masks before the query and the
selection; heatmaps and image crops only of a few samples (the first selected and the extreme-THC ones
with their temporal neighbours). ``vatl explain RUN_DIR`` (:mod:`.report`) turns them and the run's
``results.json`` into ``<run>/explain.html`` (one self-contained file) and PNGs: the selected instances
(:mod:`.draw_crops`), the top instances of other criteria ranked from the saved pass (:mod:`.rank`),
heatmap strips (:mod:`.draw_heatmaps`), a feature embedding (:mod:`.embedding`, :mod:`.draw_embedding`)
and per-cycle curves (:mod:`.draw_curves`).
"""
