import pytest

from vatl.data.synthetic.domains import (
    DOMAINS,
    MILD_DOMAINS,
    NIGHT,
    PALETTES,
    SOURCE,
    blend,
    get_domain,
    mixed_palette,
)


def test_blend_interpolates_every_parameter_by_the_degree():
    half = blend(SOURCE, NIGHT, 0.5, "half", "halfway")
    assert half.name == "half" and half.description == "halfway"
    assert half.light_gain == pytest.approx(((0.85 + 0.65) / 2, (1.1 + 0.9) / 2))
    assert half.noise_sigma == pytest.approx(((1.0 + 4.0) / 2, (3.5 + 8.0) / 2))
    assert half.jpeg_quality == round((92 + 85) / 2)  # integers stay integers
    # weight mappings mix their normalised weights: night has only night streets, the source three kinds
    assert half.backgrounds == pytest.approx({"street": 1 / 6, "indoor": 1 / 6, "park": 1 / 6, "night_street": 0.5},
                                             abs=1e-4)  # rounded to 4 decimals
    assert blend(SOURCE, NIGHT, 0.0, "s", "").light_gain == SOURCE.light_gain
    assert blend(SOURCE, NIGHT, 1.0, "n", "").noise_sigma == NIGHT.noise_sigma
    assert blend(SOURCE, NIGHT, 0.3, "x", "", persons=(2, 3)).persons == (2, 3)  # overrides win
    with pytest.raises(ValueError, match="degree"):
        blend(SOURCE, NIGHT, 1.5, "x", "")


def test_mixed_palette_draws_from_both_in_proportion():
    name = mixed_palette("everyday", "dark", 0.25)
    swatches = PALETTES[name]
    assert len(swatches) == len(PALETTES["everyday"]) + len(PALETTES["dark"])
    dark_share = sum(s.weight for s in swatches[len(PALETTES["everyday"]):])
    assert dark_share == pytest.approx(0.25) and sum(s.weight for s in swatches) == pytest.approx(1.0)
    assert blend(SOURCE, NIGHT, 0.25, "x", "").palette == name


def test_the_mild_domains_are_a_quarter_of_the_way_to_their_targets():
    for name in MILD_DOMAINS:
        mild, target = get_domain(name), DOMAINS[name.removeprefix("mild_")]
        assert mild.persons == (2, 5)
        assert mild.noise_sigma == pytest.approx(tuple(0.75 * a + 0.25 * b for a, b in
                                                       zip(SOURCE.noise_sigma, target.noise_sigma)), abs=1e-4)
    assert "indoor" not in get_domain("mild_drone").backgrounds  # rooms need a horizon inside the frame
