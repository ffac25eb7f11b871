"""The one entry point the CLI and the web layer call: a question (and a session) in, an `Answer` out."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import faiss

from index.encoder import Encoder, passage_graph
from index.export import DEFAULT_MODEL, exported_encoder
from index.graph_cache import int8_graph
from index.lexical import TERMS_VERSION, stem, terms, words
from index.store import IndexReader, Manifest, damaged
from qa.conversation import (
    PRONOUN,
    Resolved,
    Session,
    SessionStore,
    Turn,
    asks_only_the_source,
    attribution,
    context_first,
    focus_of,
    recall,
    resolve,
    rivals_of,
    staying,
    stays,
    with_context,
)
from qa.evidence import ParagraphEvidence, Query, gather
from qa.extract import CASCADE, QUOTE_MARK, Cascade, Extraction, extract, rank_paragraphs
from qa.metadata import HEADER, Header, MetadataQuestion, Reference, metadata_question
from qa.names import absent_names, article_terms
from qa.question import ASKS_WHY, AnswerType, Question
from qa.reader import Reader
from qa.retrieve import Lexicon, search
from qa.scoring import Weights
from qa.settings import Settings
from qa.spans import PRONOUN_SAYS, speaker_span, subject_span, typed_spans
from qa.spare import Spare
from qa.types import Answer, Citation

log = logging.getLogger(__name__)
DEFAULT_CITATIONS = 3
_PRONOUN = re.compile(rf"\b{PRONOUN}\b", re.IGNORECASE)
_NAMED = re.compile(r"\S\s+[A-Z0-9]")  # a word after the first capitalised or a number
# "Who said the players were brave?", "Which judge said ...?": asks for a speaker, whom the answer's sentence names;
# not "Who told police ...?", "Who added a second goal?", "Who wrote the report?"
_WHO_SAID = re.compile(r"\s*(?:(?:and|but|so)\s+)?(?:who|which\s+[a-z]+)\s+(?:(?:has|had)\s+)?(?:said|says|stated|"
                       r"insisted|insists|argued|argues|claimed|claims|warned|warns|explained|commented)\b",
                       re.IGNORECASE)
# Words naming the kind of answer a question asks for, which the answer need not use: "What was her time?"
_ANSWER_NOUNS = frozenset(terms("time name age date year price cost size score number total amount figure value "
                                "distance height weight length salary population title job role nationality"))
# A sentence that is one quotation, whose speaker is named before it ('"The players were brave."')
_QUOTATION = re.compile(r'\s*["“][^"“”]+["”][.!?]?\s*')
# What a cause "Why?" is answered with opens with
_CAUSE = re.compile(r"(?:because|due|owing|after|as|since|in|over|amid|following|for|to|so)\b", re.IGNORECASE)
MAX_CITATIONS = 10
# The confidence of an answer to "Who said that?" whose sentence names its speaker: of 111 speakers `speaker_span`
# read from random BBC sentences, 106 were right (0.955, hand-labelled); rounded down for the choice of sentence.
SPEAKER_CONFIDENCE = 0.9
# The confidence of an answer from an article that lacks a name the question gives (`qa.names.absent_names`): on
# the tuning sets (SQuAD v2.0 even articles, 2,500 questions; bbc-tune), 5 of the 25 answers it turned down were
# right; the rest were answers to questions the articles do not answer, or from the wrong article.
NAME_ABSENT_CONFIDENCE = 0.2
TERMS_CACHED = 512
# The confidence of an answer about an article (its author, date, ...) that the conversation or a one-article index
# names; one the question names by its topic has `TOPIC_CONFIDENCE` times the share of the topic's words the best
# article for them holds. Checked, not fitted, with whole questions as topics (bbc-tune and bbc-questions, 350
# answerable): the best article was the question's in 0.79 of those at 0.4-0.6, 0.88 at 0.6-0.8, 0.86 at 0.8-0.9.
CONTEXT_CONFIDENCE = 0.95
TOPIC_CONFIDENCE = 0.9
TOPIC_CANDIDATES = 5  # articles a topic's words are looked for in, best ranked first


@dataclass(frozen=True)
class LoadedIndex:
    """One index generation with everything needed to answer from it; replaced whole on reload."""

    reader: IndexReader
    lexicon: Lexicon
    encoder: Encoder
    int8_cache: Path | None = None
    _terms: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict, repr=False,
                                                                      compare=False)

    @classmethod
    def open(cls, index_dir: Path, int8_cache: Path | None = None) -> LoadedIndex:
        """The live generation of `index_dir`; with `int8_cache`, questions are encoded by an int8 copy of its
        encoder graph: the one its passages went through if it was built with `--int8`, else one made once into
        `int8_cache` (`index.graph_cache.int8_graph`); without, by the fp32 graph."""
        faiss.omp_set_num_threads(1)  # one query at a time per thread: OpenMP fan-out only adds latency
        reader = IndexReader(index_dir)
        if reader.manifest.terms_version < TERMS_VERSION:
            log.warning("the index in %s was built by an older version, which split words differently ('U.S.' "
                        "is not 'US' there, or 'café' 'cafe'): rebuild it with `qa index build` to match them",
                        index_dir)
        graph = (passage_graph(reader.directory) or int8_graph(reader.directory, int8_cache)) if int8_cache else None
        try:
            encoder = Encoder(reader.directory, threads=1, graph=graph)
        except Exception as exc:  # onnxruntime and tokenizers raise their own types on a damaged file
            reader.close()
            raise damaged(reader.directory, exc, "encoder files") from exc
        return cls(reader, Lexicon(reader), encoder, int8_cache)

    @property
    def generation(self) -> str:
        return self.reader.manifest.generation

    def article_terms(self, article_id: str) -> frozenset[str]:
        """The terms of an article (`qa.names.article_terms`)."""
        return self._terms_of(article_id)[0]

    def header_terms(self, article_id: str) -> frozenset[str]:
        """The terms of an article's id (its file's name, "museum-theft"), byline, site and url ("the Reuters
        story")."""
        return self._terms_of(article_id)[1]

    def _terms_of(self, article_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """An article's terms and its header's, read at once; those of up to `TERMS_CACHED` articles are kept."""
        known = self._terms.get(article_id)
        if known is None:
            stored = self.reader.article(article_id)
            if stored is None:
                known = (frozenset(), frozenset())
            else:
                record, paragraphs = stored
                header = " ".join(filter(None, (article_id, record.byline, record.source, record.url)))
                known = (article_terms([record.title, *paragraphs]), frozenset(terms(header)))
            if len(self._terms) >= TERMS_CACHED:
                self._terms.clear()
            self._terms[article_id] = known
        return known


class Answerer:
    """Answers questions from a loaded index; thread-safe; `reload_if_changed` swaps in a rebuilt index."""

    def __init__(self, index: LoadedIndex, weights: Weights, reader: Reader, sessions: SessionStore,
                 index_dir: Path, spare: Spare | None = None, cascade: Cascade = CASCADE) -> None:
        self.index = index
        self.spare = spare or Spare(0)
        self.weights = weights
        self.cascade = cascade
        self.reader = reader
        self.sessions = sessions
        self.index_dir = index_dir
        self._reload_lock = threading.Lock()
        self._retired: LoadedIndex | None = None

    @classmethod
    def load(cls, settings: Settings) -> Answerer:
        int8_cache = settings.cache_dir if settings.query_int8 else None
        weights = Weights.load(settings.weights_file)
        if settings.answer_threshold is not None:
            weights = replace(weights, threshold=settings.answer_threshold)
        return cls(LoadedIndex.open(settings.index_dir, int8_cache), weights,
                   Reader.load(exported_encoder(DEFAULT_MODEL, settings.cache_dir), settings.cache_dir),
                   SessionStore(settings.max_sessions, settings.session_ttl_seconds), settings.index_dir,
                   Spare.for_machine(settings.read_ahead))

    def reload_if_changed(self) -> bool:
        """Load the index the manifest now names, if it is a new one; the old keeps serving until then.

        The replaced index is closed one reload later, so questions still running on it can finish."""
        with self._reload_lock:
            try:
                generation = Manifest.read(self.index_dir).generation
            except FileNotFoundError:
                return False
            if generation == self.index.generation:
                return False
            fresh = LoadedIndex.open(self.index_dir, self.index.int8_cache)
            if self._retired is not None:
                self._retired.reader.close()
            self._retired, self.index = self.index, fresh
            return True

    def ask(self, question: str, session_id: str | None = None, top_k: int | None = None,
            remember: bool = True) -> Answer:
        """The answer to `question` in the conversation `session_id` (a new one if None or unknown); with
        `remember=False`, a question asked on its own that no session keeps (its `session_id` is empty)."""
        started = time.perf_counter()
        question = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be tokenized
        index = self.index
        session_id, session = self.sessions.get(session_id) if remember else ("", Session())
        last = session.turns[-1] if session.turns else None
        after = last.about_article if last else None
        if asked := metadata_question(question, last.question if last and not after else None, after):
            return self._about_article(index, asked, question, session_id, session, started, remember)
        resolved = resolve(question, session)
        with self.spare.asking():
            query, ranked = self.rank(index, resolved)
            asks = _asks_something(query, resolved, index.lexicon)
            extraction = self._extract(query, ranked, resolved) if asks else None
        confidence = max(self.weights.confidence.probability(extraction.features), extraction.floor) \
            if extraction else 0.0
        if extraction and absent_names(query.question.text, index.article_terms(extraction.paragraph.article_id)):
            confidence = min(confidence, NAME_ABSENT_CONFIDENCE)
        found = extraction is not None and confidence >= self.weights.threshold
        # A text without a content word ("???", "what?") is close to no passage: nothing is cited for it.
        citations = _citations(ranked, extraction, top_k or DEFAULT_CITATIONS) \
            if extraction or query.question.terms else []
        answer_text = short = None
        if found and extraction:
            text = extraction.paragraph.text
            answer_text = text[extraction.start:extraction.end]
            if extraction.short_start is not None:
                short = text[extraction.short_start:extraction.short_end]
        # The conversation stays with the article it was looking at, answered or not (or not even read for).
        article, paragraph = (extraction.paragraph.article_id, extraction.paragraph.paragraph_id) if extraction \
            else (resolved.context_article, resolved.context_paragraph)
        if remember:
            self.sessions.record(session, Turn(question, resolved.text, article, answer_text,
                                               focus_of(question, short, resolved, session), paragraph,
                                               _rivals(ranked, article, resolved), short))
        return Answer(found, answer_text, short, round(confidence, 4), tuple(citations), session_id,
                      round((time.perf_counter() - started) * 1000, 2))

    def _about_article(self, index: LoadedIndex, asked: MetadataQuestion, question: str, session_id: str,
                       session: Session, started: float, remember: bool) -> Answer:
        """The answer to a question about an article (its author, date, source or url), from its header; declined
        when the article is not known or its header lacks what is asked."""
        with self.spare.asking():
            article_id, sure = self._article_asked(index, asked, question, session)
        stored = index.reader.article(article_id) if article_id else None
        confidence = 0.0
        citations: tuple[Citation, ...] = ()
        found, answer_text, short = False, None, None
        if stored is not None:
            record, paragraphs = stored
            header = Header.of(record.byline, record.date, record.source, record.url)
            span = header.answer(asked.field)
            start, end, short_start, short_end = span or (0, 0, 0, 0)
            confidence = sure if span else 0.0
            found = confidence >= self.weights.threshold
            if found:
                answer_text, short = header.text[start:end], header.text[short_start:short_end]
            # an article without a header is cited by its first paragraph: the one looked at, nothing marked
            where, text = (HEADER, header.text) if header.text else (0, paragraphs[0] if paragraphs else "")
            citations = (Citation(1, article_id, record.title, record.url, where, text, start, end,
                                  round(confidence, 4), record.date),)
        if remember:  # the conversation goes on with the article, unless it was a guess
            last = session.turns[-1].article_id if session.turns else None
            kept = article_id if sure >= self.weights.threshold else last
            self.sessions.record(session, Turn(question, question, kept, answer_text, (), None, (), short,
                                               about_article=asked.field))
        return Answer(found, answer_text, short, round(confidence, 4), citations, session_id,
                      round((time.perf_counter() - started) * 1000, 2))

    def _article_asked(self, index: LoadedIndex, asked: MetadataQuestion, question: str,
                       session: Session) -> tuple[str | None, float]:
        """The article a question about an article means, and how sure that is: the one it names by its topic
        ("the solar farm article"), else the conversation's last article, else the index's only one."""
        if asked.reference is Reference.TOPIC and (wanted := frozenset(Question.parse(asked.topic).terms)):
            return self._article_named(index, asked.topic, wanted, question)
        last = next((t.article_id for t in reversed(session.turns) if t.article_id), None)
        if last is not None:
            return last, CONTEXT_CONFIDENCE
        if index.reader.manifest.counts.get("articles") == 1:
            return index.reader.articles(0, 1)[0].article_id, CONTEXT_CONFIDENCE
        return None, 0.0

    def _article_named(self, index: LoadedIndex, topic: str, wanted: frozenset[str],
                       question: str) -> tuple[str | None, float]:
        """Of the best-ranked articles for a topic's words and those whose id or header holds one ("the Reuters
        story"), the one holding most of them, at `TOPIC_CONFIDENCE` times the share it holds
        (`NAME_ABSENT_CONFIDENCE` at most if it lacks a name the question gives); none holding any, none."""
        _, ranked = self.rank(index, Resolved(topic))
        headed = [a for w in words(topic) if len(w) > 2 and stem(w) in wanted
                  for a in index.reader.articles_headed(w, TOPIC_CANDIDATES)]
        best, share, held = None, (0, 0), frozenset[str]()
        for article_id in dict.fromkeys([*dict.fromkeys(p.article_id for p in ranked)][:TOPIC_CANDIDATES] + headed):
            header = index.header_terms(article_id)
            terms_of = index.article_terms(article_id) | header
            found = (len(wanted & terms_of), len(wanted & header))  # the header breaks ties: "the Reuters story"
            if found > share:
                best, share, held = article_id, found, terms_of
        if best is None:
            return None, 0.0
        confidence = TOPIC_CONFIDENCE * share[0] / len(wanted)
        return best, min(confidence, NAME_ABSENT_CONFIDENCE) if absent_names(question, held) else confidence

    def _extract(self, query: Query, ranked: list[ParagraphEvidence], resolved: Resolved) -> Extraction | None:
        """The answer read from the ranking (the conversation's article when the question stays with it). For "Who
        said that?", from the sentences that say whose words the last answer were (`_with_speaker`); none when no
        sentence in or around the last answer names a speaker (or there was no last answer): the article states it
        itself, and the speaker of another quotation would be a confident wrong answer. A question that says more
        ("Who said that about shoppers?") is then answered as any other. A bare question ("Why?", "For how long?")
        is answered from the last answer's sentences when the answer read there is confident enough, else as any
        other."""
        said = attribution(ranked, resolved)
        if resolved.attributed is not None and said is None and asks_only_the_source(resolved.text):
            return None
        if (recalled := recall(ranked, resolved)) is not None:
            extraction = extract(ranked, query, self.weights, self.reader, among=[recalled[0]], spare=self.spare,
                                 cascade=self.cascade, sentences=recalled[1])
            if extraction and _read_in_it(extraction, query.question) \
                    and self.weights.confidence.probability(extraction.features) >= self.weights.threshold:
                return extraction
        extraction = extract(ranked, query, self.weights, self.reader, among=[said[0]] if said else staying(ranked),
                             spare=self.spare, avoid=resolved.not_answers, cascade=self.cascade,
                             mentions=resolved.mentions, sentences=said[1] if said else None)
        if extraction is None:
            return None
        if said is not None:
            return _with_speaker(extraction, self._article_text(extraction))
        return _who_said(extraction, self._article_text(extraction)) if _WHO_SAID.match(resolved.text) \
            else extraction

    def _article_text(self, extraction: Extraction) -> str:
        """The text of the article an answer is from (its paragraphs, a line each)."""
        stored = self.index.reader.article(extraction.paragraph.article_id)
        return "\n".join(stored[1]) if stored else extraction.paragraph.text

    def rank(self, index: LoadedIndex, resolved: Resolved) -> tuple[Query, list[ParagraphEvidence]]:
        """The question as scored, and candidate paragraphs with their evidence, best first. In a conversation
        the question is first ranked without leaning on it; if the conversation's article holds it about as
        well as any other (`stays`), it is ranked again leaning on that article, which then comes first."""
        vector = index.encoder.encode([resolved.encoded])[0]
        query = Query.make(Question.parse(resolved.text), vector, index.lexicon, resolved.extra_terms)
        bm25 = index.lexicon.scores(list(query.idf))
        candidates = with_context(index.reader, search(index.reader, vector, bm25), resolved)
        evidence = gather(index.reader, index.lexicon, query, candidates, bm25)
        ranked = rank_paragraphs(evidence, self.weights)
        if resolved.context_article is None or not stays(ranked, resolved, query.question):
            return query, _distinct(ranked)
        for p in evidence:
            p.features["context"] = 1.0 if p.article_id == resolved.context_article else 0.0
        return query, _distinct(context_first(rank_paragraphs(evidence, self.weights), resolved))


def _with_speaker(extraction: Extraction, article: str) -> Extraction:
    """An answer to "Who said that?" with the speaker as its short answer: the one its sentence names ("said Tim
    Osborne", at confidence `SPEAKER_CONFIDENCE` at least), or the one the sentence before names for its "he said"
    or bare quotation (`_named_before`), which the answer then takes in; none when neither names anyone."""
    text, start, end = extraction.paragraph.text, extraction.start, extraction.end
    if named := speaker_span(text, start, end):
        return replace(extraction, short_start=named[0], short_end=named[1],
                       floor=max(extraction.floor, SPEAKER_CONFIDENCE))
    if (before := _named_before(extraction, article)) is None:
        return replace(extraction, short_start=None, short_end=None)
    start, (short_start, short_end) = before
    return replace(extraction, start=start, short_start=short_start, short_end=short_end)


def _named_before(extraction: Extraction, article: str) -> tuple[int, tuple[int, int]] | None:
    """Where the sentence before the answer starts and whom it names, when the answer's speaker is named there: for
    "he said", the speaker or the name opening it ("Krasner refused to give any details. He told BBC Five Live: ...";
    a surname alone if `article`, the article's text, gives it in full: "Bell conceded." after "Gordon Bell"); for a
    bare quotation, the speaker of the one the sentence before gives ('"I have waited ...," said Ellen Stroud. "The
    players were brave."'; not 'Shares fell, according to Reuters. "We are disappointed."')."""
    text, start, end = extraction.paragraph.text, extraction.start, extraction.end
    prior = next((s for s in reversed(extraction.paragraph.sentences) if s.end <= start), None)
    named = None
    if prior is not None and PRONOUN_SAYS.search(text, start, end):
        named = speaker_span(text, prior.start, prior.end) or subject_span(text, prior.start, prior.end, article)
    elif prior is not None and _QUOTATION.fullmatch(text, start, end) \
            and QUOTE_MARK.search(text, prior.start, prior.end):
        named = speaker_span(text, prior.start, prior.end)
    return (prior.start, named) if prior is not None and named is not None else None


def _read_in_it(extraction: Extraction, question: Question) -> bool:
    """Whether the answer a bare question reads in the last answer's sentences is one: a short answer at most half
    as long as they are, of the kind asked ("How old?": an age, not "Tom Hadley"), or for "Why?" a cause ("in a
    dispute over pay"); "What?" and "How?" ask no kind, and are not read there ("What?" was answered "38th")."""
    if extraction.short_start is None or extraction.short_end is None:
        return False
    sentence = extraction.paragraph.text[extraction.start:extraction.end]
    start, end = extraction.short_start - extraction.start, extraction.short_end - extraction.start
    if (end - start) * 2 > len(sentence):
        return False
    if question.answer_type is AnswerType.OTHER:
        return bool(ASKS_WHY.match(question.text) and _CAUSE.match(sentence, start))
    return any(s.start < end and start < s.end for s in typed_spans(sentence, question))


def _who_said(extraction: Extraction, article: str) -> Extraction:
    """An answer to "Who said ...?" with the speaker as its short answer where its sentence says who spoke: the name
    it gives, or for "she said" the name the sentence before gives (none if it gives none: "she" is no answer), or
    for a bare quotation the speaker the sentence before names, as `_with_speaker` reads them; the confidence stays
    the model's, which found the sentence. A sentence that says none of these keeps the reader's span."""
    text, start, end = extraction.paragraph.text, extraction.start, extraction.end
    if speaker_span(text, start, end) or PRONOUN_SAYS.search(text, start, end) \
            or _named_before(extraction, article):
        return replace(_with_speaker(extraction, article), floor=extraction.floor)
    return extraction


def _asks_something(query: Query, resolved: Resolved, lexicon: Lexicon) -> bool:
    """Whether the question asks for anything to look for: a content word of its own ("a", "what?" and "🤔" have
    none; what a follow-up borrows from the conversation is not its own) in a text that asks (`Question.asks`:
    "banana" only names a topic). In a conversation, that word must be one the articles use ("AAAA?" would be
    answered from the conversation's article as a one-word follow-up; on its own, the dense search may still
    find "What is PPP?" where the text says "PPPs"; "When was it floated?" would be read as "When was it?"), or
    the words must all be question or function words ("Why?", "Who said that?"): the conversation says what they
    ask about; a word naming the kind of answer asked for may be one the articles do not use ("What was her time?"
    of "won in 2 hours 9 minutes", "What is her name?" of "The mother, Xin Xin, ..."). Out of a conversation, a
    question that
    names its subject only by a pronoun, with one content word and no name or number ("What did he say?", "What
    did it cost?"), asks nothing either: any "he" who said anything would do (2 of the 10,570 questions of SQuAD
    v1.1 dev are so, "Why did he walk?", none of v2.0 dev or the BBC sets). Else the best sentence would be an
    answer to nothing; the closest passages are still cited when it has a content word."""
    follows = resolved.context_article is not None or bool(resolved.focus)
    own, text = query.question.terms, query.question.text
    if not follows and _PRONOUN.search(text) and not _NAMED.search(text) \
            and len([t for t in own if not _PRONOUN.fullmatch(t)]) <= 1:
        return False
    if query.question.asks and own and (not follows or any(lexicon.knows(t) or t in _ANSWER_NOUNS for t in own)):
        return True
    return follows and bool(query.question.words) and not own


def _distinct(ranked: list[ParagraphEvidence]) -> list[ParagraphEvidence]:
    """The ranking without a paragraph whose text a better-ranked one already has (an article saved twice, a
    wire story in two feeds): it would be cited twice and leave the answer no margin over its own copy."""
    seen: set[str] = set()
    kept = []
    for p in ranked:
        if p.text not in seen:
            seen.add(p.text)
            kept.append(p)
    return kept


def _rivals(ranked: list[ParagraphEvidence], article: str | None, resolved: Resolved) -> tuple[str, ...]:
    """The rivals of the article a turn answered from: kept while the conversation stays with it, else taken from
    the ranking that chose it."""
    if any(p.features["context"] for p in ranked):
        return resolved.rivals
    return rivals_of(ranked, article) if article else ()


def _letters(text: str) -> str:
    """`text` as letters and digits only, lower-cased: two copies of a sentence differing in punctuation match."""
    return "".join(c for c in text.lower() if c.isalnum())


def _citations(ranked: list[ParagraphEvidence], extraction: Extraction | None, top_k: int) -> list[Citation]:
    """The answer's source first, then the next best paragraphs at their best sentence. A declined answer's
    candidate comes first too: the passage that came closest to answering, at the sentence it would have given.
    A sentence already cited from another article (a near copy of the story: "hour's" for "hours'") is not cited
    again."""
    top_k = max(1, min(top_k, MAX_CITATIONS))
    chosen: list[tuple[ParagraphEvidence, int, int]] = []
    if extraction:
        chosen.append((extraction.paragraph, extraction.start, extraction.end))
    cited = {_letters(p.text[s.start:s.end]) for p, start, end in chosen for s in p.sentences
             if s.start < end and s.end > start}  # each sentence of a widened answer
    for p in ranked:
        if len(chosen) >= top_k:
            break
        if (extraction and p is extraction.paragraph) or not p.sentences:
            continue
        best = max(p.sentences, key=lambda s: s.score or s.features.get("cos", 0.0))
        said = _letters(p.text[best.start:best.end])
        if said not in cited:
            cited.add(said)
            chosen.append((p, best.start, best.end))
    return [
        Citation(n, p.article_id, p.title, p.url, p.index, p.text, start, end, round(p.score, 4), p.date)
        for n, (p, start, end) in enumerate(chosen, start=1)
    ]
