"""Words for BM25 and term matching: lower-cased, English stop words dropped, Snowball-stemmed."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# A dot joins a word only after a single character or before a digit ("U.S.", "e.g.", "1.5", "No.1"). Elsewhere it
# splits: a web address is its names ("OneStat.com" -> "onestat", "com"), so "OneStat" finds it, and a missing
# space after a full stop ("website.He") does not glue two words together.
_TOKEN = re.compile(r"\w+(?:(?:['’]|(?<!\w\w)\.|\.(?=\d))\w+)*", re.UNICODE)
# Single letters joined by dots are one word without them: "U.S." is "us" as "US" is, "U.N." "un", "e.g." "eg".
_INITIALISM = re.compile(r"[^\W\d_](?:\.[^\W\d_])+")
# Bumped whenever `terms` changes what it gives for some text: an index keeps the terms it was built with
# (the manifest says which), and its queries match them only once it is rebuilt.
TERMS_VERSION = 6  # 4-6: irregular past forms as their verb (5, 6: fewer); 3: accents folded; 2: "U.S." is "us"
_STOP = frozenset(STOPWORDS_EN)
# No cache inside the stemmer: `stem` keeps its own, and PyStemmer's (10,000 words, purged when full) makes a
# word it has not seen cost about three times the stemming itself.
_stemmer = Stemmer.Stemmer("english", maxCacheSize=0)
# Letters NFKD does not take apart ("Łukasz", "Øresund", "Straße")
_PLAIN = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Đ": "D", "đ": "d",
                        "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th"})


def folded(text: str) -> str:
    """`text` without accents ("Schrödinger" -> "Schrodinger", "Łukasz" -> "Lukasz")."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.translate(_PLAIN)) if not unicodedata.combining(c))


# The past forms of irregular verbs that say what was done, which Snowball leaves apart from the verb: a question
# asks "How much did he steal?" of "he stole £1.2m" and "What did she spend it on?" of "it was spent on". Forms of
# verbs that say little ("said", "made", "took", "came", "went", "gave", ...: "say" would find every "said" of a news
# article, which on the BBC question sets cost more answers than it found) are left as they are, as are forms that
# are often a noun, a name or another word ("found", "left", "rose", "saw", "felt", "drew", "fed", "shot", "met" of
# the Met Office, "heard", "lent", "sat", "woke", "thought", "dealt"); "won" and "led" are verbs far more often
# than a currency or a lamp.
_IRREGULAR = {form: verb for verb, forms in (
    ("steal", "stole stolen"), ("win", "won"), ("spend", "spent"), ("pay", "paid"), ("sell", "sold"),
    ("buy", "bought"), ("build", "built"), ("catch", "caught"), ("teach", "taught"), ("seek", "sought"),
    ("fight", "fought"), ("choose", "chose chosen"), ("drive", "drove driven"), ("ride", "rode ridden"),
    ("write", "wrote written"), ("break", "broke broken"), ("speak", "spoken"), ("freeze", "froze frozen"),
    ("grow", "grew grown"), ("throw", "threw thrown"), ("fly", "flew flown"), ("begin", "began begun"),
    ("swim", "swam swum"), ("sink", "sank sunk"), ("drink", "drank drunk"), ("lose", "lost"), ("lead", "led"),
    ("run", "ran"), ("eat", "ate eaten"), ("fall", "fallen"), ("rise", "risen"), ("forget", "forgot forgotten"),
    ("hide", "hid hidden"), ("draw", "drawn"), ("stand", "stood"), ("understand", "understood"), ("strike", "struck"),
    ("sleep", "slept"), ("wear", "wore worn"), ("tear", "tore torn"), ("swear", "swore sworn"),
    ("shake", "shook shaken"), ("forbid", "forbade forbidden"), ("withdraw", "withdrew withdrawn"),
    ("overtake", "overtook overtaken"), ("undertake", "undertook undertaken"), ("arise", "arose arisen"),
    ("dig", "dug"), ("stick", "stuck"), ("swing", "swung"), ("spin", "spun"), ("flee", "fled"), ("sweep", "swept"),
    ("lay", "laid"), ("mislead", "misled"), ("slide", "slid"), ("bleed", "bled"), ("breed", "bred"),
) for form in forms.split()}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(_IRREGULAR.get(word, word))


def _undotted(word: str) -> str:
    return word.replace(".", "") if "." in word and _INITIALISM.fullmatch(word) else word


def plain(text: str) -> str:
    """`text` lower-cased, with plain apostrophes and without accents ("L’Été" -> "l'ete")."""
    return text.lower() if text.isascii() else folded(text.lower().replace("’", "'"))


def words(text: str) -> list[str]:
    """Lower-cased word tokens without accents (apostrophes inside a word kept, "it's", dots as `_TOKEN` and
    `_INITIALISM` say)."""
    # lower-casing ASCII keeps every character, so such a text can be lowered once
    lowered = _TOKEN.findall(text.lower()) if text.isascii() else [plain(w) for w in _TOKEN.findall(text)]
    return [_undotted(w) for w in lowered] if "." in text else lowered


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Each word of `text` as `words` gives it, with where it starts and ends."""
    return [(m.start(), m.end(), _undotted(plain(m.group()))) for m in _TOKEN.finditer(text)]


def terms(text: str) -> list[str]:
    """Stemmed content terms of `text`, in order, stop words removed."""
    return [stem(w) for w in words(text) if w not in _STOP]
