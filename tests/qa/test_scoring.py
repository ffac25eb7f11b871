"""The linear models behind ranking and confidence, and the weights file that ships them."""

import json

import pytest

from qa.scoring import LinearModel, Weights, WeightsError


def test_a_linear_model_adds_its_weighted_features_to_its_bias_and_counts_missing_ones_as_zero():
    model = LinearModel({"a": 2.0, "b": -1.0}, bias=0.5)
    assert model.score({"a": 1.5, "b": 4.0}) == pytest.approx(0.5 + 3.0 - 4.0)
    assert model.score({"a": 1.0}) == pytest.approx(2.5)
    assert model.probability({}) == pytest.approx(1 / (1 + 2.718281828 ** -0.5))


def test_a_feature_outside_the_fitted_range_counts_as_the_nearest_bound():
    model = LinearModel({"margin": 0.3, "score": -0.1}, bounds={"margin": (-5.0, 20.0), "score": (-4.0, 30.0)})
    assert model.score({"margin": 35.0, "score": -7.0}) == pytest.approx(0.3 * 20.0 - 0.1 * -4.0)
    assert model.score({"margin": 3.0, "score": 10.0}) == pytest.approx(0.3 * 3.0 - 0.1 * 10.0)
    assert model.score({}) == 0.0  # a missing feature is 0 whatever its bounds


def test_weights_round_trip_through_their_file_bounds_included(tmp_path):
    shipped = Weights.load()
    bounded = LinearModel(shipped.confidence.weights, shipped.confidence.bias, {"cos": (0.2, 0.9)})
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(Weights(shipped.paragraph, shipped.sentence, bounded, 0.4).to_dict()))
    loaded = Weights.load(path)
    assert loaded.threshold == 0.4
    assert loaded.confidence.score({"cos": 1.5}) == pytest.approx(bounded.score({"cos": 0.9}))


def test_an_unreadable_weights_file_is_named_in_the_error(tmp_path):
    path = tmp_path / "weights.json"
    path.write_text('{"paragraph": {}}')
    with pytest.raises(WeightsError, match=r"weights\.json"):
        Weights.load(path)
