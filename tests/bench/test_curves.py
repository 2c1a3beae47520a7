import matplotlib.image

from vatl.bench.curves import line_look, plot_learning_curves


def test_lines_stay_distinguishable_past_the_colour_cycle():
    looks = [line_look(i) for i in range(40)]
    assert len(set(looks)) == 40


def test_zoom_panel_doubles_the_width(tmp_path):
    curves = {f"c{i}": ([0, 5, 20, 100], [10 + i, 50, 80, 100]) for i in range(12)}
    bands = {"c0": ([0, 5, 20, 100], [5, 45, 75, 100], [15, 55, 85, 100])}
    one = plot_learning_curves(curves, tmp_path / "one.png", bands=bands, zoom_percent=None)
    two = plot_learning_curves(curves, tmp_path / "two.png", bands=bands, title="t")
    height1, width1 = matplotlib.image.imread(one).shape[:2]
    height2, width2 = matplotlib.image.imread(two).shape[:2]
    assert height1 == height2 and width2 == 2 * width1
