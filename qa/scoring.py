"""Linear models over evidence features, with weights fitted offline (benchmarks/tune.py) and shipped as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import repeat
from operator import mul
from pathlib import Path

WEIGHTS_FILE = Path(__file__).with_name("weights.json")


class WeightsError(ValueError):
    """A weights file (`QA_WEIGHTS_FILE`) that cannot be read."""


@dataclass(frozen=True)
class LinearModel:
    """`bias + sum(weight * feature)`; features missing from the input count as 0, and a feature with `bounds` is
    first brought within them: the range it had where the model was fitted, so that a value never seen there
    (a sentence score of -7 where the fit's lowest was -4) is not extrapolated along a line that holds only
    within it."""

    weights: dict[str, float]
    bias: float = 0.0
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def score(self, features: dict[str, float]) -> float:
        if self.bounds:
            features = features | {k: min(max(features[k], low), high)
                                   for k, (low, high) in self.bounds.items() if k in features}
        return self.bias + sum(map(mul, self.weights.values(), map(features.get, self.weights, repeat(0.0))))

    def probability(self, features: dict[str, float]) -> float:
        z = max(-30.0, min(30.0, self.score(features)))
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Weights:
    """Paragraph ranking, sentence choice, answer confidence, the confidence needed to answer, the reader's
    span probability needed to give a short answer, and how much the reader's reading weighs in the choice."""

    paragraph: LinearModel
    sentence: LinearModel
    confidence: LinearModel
    threshold: float
    span_threshold: float = 1.0
    reading: LinearModel = LinearModel({})

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Weights:
        """The weights in `path`; a `WeightsError` naming the file if it cannot be read as weights."""
        try:
            data = json.loads(path.read_text())
            return cls(
                paragraph=LinearModel(**data["paragraph"]),
                sentence=LinearModel(**data["sentence"]),
                confidence=LinearModel(**data["confidence"]),
                threshold=float(data["threshold"]),
                span_threshold=float(data.get("span_threshold", 1.0)),
                reading=LinearModel(**data.get("reading", {"weights": {}})),
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise WeightsError(f"cannot read the weights file {path} ({type(exc).__name__}: {exc})") from exc

    def to_dict(self) -> dict:
        return {
            "paragraph": self.paragraph.__dict__, "sentence": self.sentence.__dict__,
            "confidence": self.confidence.__dict__, "threshold": self.threshold,
            "span_threshold": self.span_threshold, "reading": self.reading.__dict__,
        }
