"""Shared constants and tiny corpora of the web tests (imported by conftest and the test modules)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SEED_ID, make_index

SEED_QUESTION = "How many casualties have North Korean troops suffered?"
SEED_ANSWER = "1,100"

EVIL_ID = "evil/one"
EVIL_TITLE = "<script>alert(1)</script> Harbour <img src=x onerror=alert(1)> reopens"
EVIL_PARAGRAPHS = [
    "The harbour at Port Elmsworth reopened on Tuesday after a storm closed it for nine days.",
    "Officials said <script>alert(1)</script> repairs cost 2.4 million pounds & took 40 workers.",
    "A spokesman added that <img src=x onerror=alert(1)> ferries would run hourly from Friday.",
]
PLAIN_ID = "plain/two"
HOSTILE_CORPUS = [
    {"id": EVIL_ID, "title": EVIL_TITLE, "paragraphs": EVIL_PARAGRAPHS, "url": "javascript:alert(1)",
     "byline": "<b>Jo</b> Reporter", "date": "2024-05-01"},
    {"id": PLAIN_ID, "title": "Orchard village wins cider prize",
     "paragraphs": ["The village of Lower Combe won the county cider prize for the third year running.",
                    "Its cider was made from 14 varieties of apple grown in the parish orchard."],
     "url": "https://example.org/cider?a=1&b=2", "byline": "By Sam Writer", "date": "2024-06-02"},
]

LIGHTHOUSE = {"id": "coast/lighthouse", "title": "Lighthouse keeper retires after 41 years",
              "paragraphs": [
                  "Margaret Tull retired on Sunday after 41 years as keeper of the Skerryvane light.",
                  "She said the hardest winter was 1987, when supply boats could not land for 6 weeks."]}
BAKERY = {"id": "town/bakery", "title": "Bakery doubles bread output",
          "paragraphs": ["The Mill Lane bakery now bakes 3,000 loaves a day after installing a second oven.",
                         "Owner Priya Nand said the new oven cost 85,000 pounds."]}


def write_jsonl(path: Path, articles: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    return path


__all__ = ["SEED_ID", "make_index"]
