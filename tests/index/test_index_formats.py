"""Articles in: each format is parsed to the right title, byline, date, url and body paragraphs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from index.formats import read_file
from index.types import Article, Skipped, web_link
from tests.index.index_corpus import (
    HTML_PAGE,
    HTML_PARAGRAPHS,
    JSON_ONE_PARAGRAPHS,
    SEED_FILE,
    jsonl,
    plain_article,
    write,
)


def parse(path: Path, article_id: str = "a") -> list[Article | Skipped]:
    return list(read_file(path, article_id, path.read_bytes()))


def parse_one(path: Path, article_id: str = "a") -> Article:
    (result,) = parse(path, article_id)
    assert isinstance(result, Article), result
    return result


# --- .txt / .md: the scraped markdown layout (the seed article) ---------------------------------------------

@pytest.fixture(scope="module")
def seed() -> Article:
    return parse_one(SEED_FILE, "000_d16ca97c03054509")


def test_seed_title_byline_date_and_url_are_metadata(seed: Article) -> None:
    assert seed.title == (
        "North Korean Soldiers Suffer 1,100 Casualties in Ukraine War, South Korean Military Says")
    assert seed.byline == "AFP"
    assert seed.date == "2024-12-23"
    assert seed.url == (
        "https://www.themoscowtimes.com/2024/12/23/"
        "north-korean-soldiers-suffer-1100-casualties-in-ukraine-war-south-korean-military-says-a87427"
    )


def test_seed_has_nine_body_paragraphs_starting_with_the_lede(seed: Article) -> None:
    assert len(seed.paragraphs) == 9
    assert seed.paragraphs[0].startswith("More than 1,000 North Korean soldiers")
    assert seed.paragraphs[-1].startswith("Pyongyang has sent thousands of troops")


def test_seed_caption_related_link_and_metadata_lines_are_not_body(seed: Article) -> None:
    body = "\n".join(seed.paragraphs)
    for not_body in ("KCNA", "Related article", "Putin Pulls From Stalin", "Original url", "themoscowtimes",
                     "December 23, 2024", "AFP](#)", "North Korean Soldiers Suffer"):
        assert not_body not in body


def test_seed_paragraph_cut_mid_sentence_by_the_scraper_is_rejoined(seed: Article) -> None:
    joined = [p for p in seed.paragraphs if "preparing for the" in p]
    assert len(joined) == 1
    assert joined[0].startswith('"We are particularly interested')
    assert joined[0].endswith(
        'Pyongyang is reportedly "preparing for the rotation or additional deployment of soldiers."')
    assert not any(p.startswith("rotation") for p in seed.paragraphs)


def test_markdown_links_and_emphasis_keep_their_words(tmp_path: Path) -> None:
    text = ("# Budget **passes**\n\nBy [Jane Doe](https://x.example/jd)\n\n5 March 2024\n\n"
            "The [finance minister](https://x.example) said **yes**.\n")
    path = write(tmp_path / "a.md", text)
    article = parse_one(path)
    assert (article.title, article.byline, article.date) == ("Budget passes", "Jane Doe", "2024-03-05")
    assert article.paragraphs == ("The finance minister said yes.",)


def test_base64_and_other_runs_no_one_reads_are_dropped_but_text_without_spaces_is_kept(tmp_path: Path) -> None:
    blob = "iVBORw0KGgoAAAANSUhEUgAA" * 20
    text = (f"Harbour news\n\nThe pier reopened on Monday.\n\n{blob}==\n\n"
            f"Tickets via https://x.example/t?{'utm=1&' * 30} cost 2 pounds.\n\n{'港口重新开放' * 30}\n")
    article = parse_one(write(tmp_path / "a.txt", text))
    assert article.paragraphs == ("The pier reopened on Monday.", "Tickets via cost 2 pounds.", "港口重新开放" * 30)


@pytest.mark.parametrize("name, text", [
    ("a.txt", "Harbour " * 5000 + "\n\nThe pier reopened on Monday.\n"),
    ("a.jsonl", json.dumps({"id": "a", "title": "Harbour " * 5000, "paragraphs": ["The pier reopened on Monday."]})),
])
def test_a_headline_too_long_to_be_one_is_cut_at_a_word(tmp_path: Path, name: str, text: str) -> None:
    article = parse_one(write(tmp_path / name, text))
    assert article.title == ("Harbour " * 25).strip() + "…"  # 200 characters at most, then the ellipsis
    assert article.paragraphs == ("The pier reopened on Monday.",)


@pytest.mark.parametrize("line, iso", [
    ("December 23, 2024", "2024-12-23"), ("Dec 23, 2024", "2024-12-23"), ("23 December 2024", "2024-12-23"),
    ("2024-12-23", "2024-12-23"), ("Monday, December 23, 2024", "2024-12-23"),
    ("Dec. 23, 2024, 10:04 a.m.", "2024-12-23"), ("Updated: December 23, 2024", "2024-12-23"),
    ("Published: 18 Dec 2023, 22:17 GMT", "2023-12-18"), ("2024-12-23T10:04:00Z", "2024-12-23"),
    ("Sept. 5, 2024", "2024-09-05"), ("Thursday, 5 September 2024", "2024-09-05"),
    ("Thu 5 Sep 2024 10.04 BST", "2024-09-05"),
])
def test_a_date_line_in_a_common_news_format_becomes_an_iso_date(tmp_path: Path, line: str, iso: str) -> None:
    path = write(tmp_path / "a.md", f"# Title\n\n{line}\n\nBody text.\n")
    article = parse_one(path)
    assert article.date == iso
    assert article.paragraphs == ("Body text.",)


def test_yaml_front_matter_gives_the_metadata_and_is_never_body(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", '---\ntitle: "Bank of England holds rates"\ndate: 2023-09-21\n'
                 "author: Jane Smith\nurl: https://example.com/boe\npublisher: Money Weekly\n---\n\n"
                 "# Bank of England holds rates\n\n"
                 "The Bank kept rates on hold.\n\n## What it means\n\nMortgage rates may fall.\n")
    article = parse_one(path)
    assert (article.title, article.date, article.byline, article.url, article.source) == (
        "Bank of England holds rates", "2023-09-21", "Jane Smith", "https://example.com/boe", "Money Weekly")
    assert article.paragraphs == ("The Bank kept rates on hold.", "What it means", "Mortgage rates may fall.")


def test_with_a_title_in_front_matter_the_first_line_is_body_unless_it_is_a_heading(tmp_path: Path) -> None:
    """A Hugo/Jekyll file: the title is in the front matter, and the text under it starts with the lead."""
    path = write(tmp_path / "a.md", "---\ntitle: City opens new library\ndate: 2023-05-14\n---\n\n"
                 "The city opened its new central library on Monday\n\nIt holds 200,000 books.\n")
    article = parse_one(path)
    assert article.title == "City opens new library"
    assert article.paragraphs == ("The city opened its new central library on Monday", "It holds 200,000 books.")


def test_markdown_rules_and_heading_underlines_are_not_paragraphs(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "City opens new library\n======================\n\nThe library opened.\n\n"
                 "---\n\nIt holds 200,000 books.\n\n* * *\n\nWhat it cost\n------------\n\nIt cost 40m pounds.\n")
    article = parse_one(path)
    assert article.title == "City opens new library"
    assert article.paragraphs == ("The library opened.", "It holds 200,000 books.", "What it cost",
                                  "It cost 40m pounds.")


@pytest.mark.parametrize("credit", ["REUTERS / Brendan McDermid", "AP Photo/Evan Vucci"])
def test_a_photo_credit_naming_agency_and_photographer_ends_a_caption(tmp_path: Path, credit: str) -> None:
    path = write(tmp_path / "a.md", f"# Title\n\nTraders on the floor. **{credit}**\n\nThe talks focused on "
                 "**UK/US relations**\n")
    assert parse_one(path).paragraphs == ("The talks focused on UK/US relations",)


def test_a_scraped_page_s_preamble_before_its_title_is_dropped(tmp_path: Path) -> None:
    """Breadcrumbs, a hero image, "Skip to main content": a few short lines before `# Title`."""
    path = write(tmp_path / "a.md", "Skip to main content\n\n![Troops](https://img/t.jpg)\n\n[Home](/) > World\n\n"
                 "# Troops suffer losses\n\nBy [AFP](#)\n\nTroops suffered 1,100 casualties.\n")
    article = parse_one(path)
    assert (article.title, article.byline) == ("Troops suffer losses", "AFP")
    assert article.paragraphs == ("Troops suffered 1,100 casualties.",)


# --- .txt: the plain news layout (the BBC corpus) -----------------------------------------------------------

def test_a_text_that_starts_with_its_lead_keeps_it_as_a_paragraph(tmp_path: Path) -> None:
    """A first line that is a long sentence is no headline: it is the lead, and the title is its start."""
    lead = ("Maersk, the Danish shipping group that is the largest container carrier in the world, said on "
            "Monday that it would cut 10,000 jobs over the next two years.")
    article = parse_one(write(tmp_path / "a.txt", f"{lead}\n\nShares rose 3%.\n"))
    assert article.paragraphs == (lead, "Shares rose 3%.")
    assert article.title == "Maersk, the Danish shipping group that is the largest container carrier in the…"


def test_without_blank_lines_each_line_is_a_paragraph(tmp_path: Path) -> None:
    """(A line cut mid-sentence is joined to the next, as in a scraped page.)"""
    text = "Call centre waits\nCallers hang up after two minutes.\nThe study covered 200 firms.\nMost were\nannoyed.\n"
    article = parse_one(write(tmp_path / "a.txt", text))
    assert article.title == "Call centre waits"
    assert article.paragraphs == ("Callers hang up after two minutes.", "The study covered 200 firms.",
                                  "Most were annoyed.")


def test_plain_layout_headline_then_paragraphs(tmp_path: Path) -> None:
    path = write(tmp_path / "business" / "001.txt", plain_article(
        "Ad sales boost Time Warner profit",
        ["Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m).",
         "The firm, one of the biggest investors in Google, benefited from high-speed internet."]))
    article = parse_one(path, "business/001")
    assert article.title == "Ad sales boost Time Warner profit"
    assert article.paragraphs == (
        "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m).",
        "The firm, one of the biggest investors in Google, benefited from high-speed internet.",
    )
    assert (article.byline, article.date, article.url) == (None, None, None)


def test_plain_layout_blank_line_is_always_a_paragraph_break(tmp_path: Path) -> None:
    """BBC paragraphs may end without punctuation and the next start lower-case (names were links);
    the corpus convention (and its evaluation sets) count every blank-line block as a paragraph."""
    paragraphs = ["Britain's athletes showed their indoor form. Promising 60m hurdler",
                  "clocked a new UK record of 7.98 seconds at a meeting in Norway."]
    article = parse_one(write(tmp_path / "a.txt", plain_article("Gardener storms to win", paragraphs)))
    assert list(article.paragraphs) == paragraphs


def test_plain_layout_sentence_starting_with_by_is_body_not_a_byline(tmp_path: Path) -> None:
    paragraphs = ["By early 2005 the net could have two new domain names.", "The .post domain was approved."]
    article = parse_one(write(tmp_path / "a.txt", plain_article("New net domains", paragraphs)))
    assert article.byline is None
    assert list(article.paragraphs) == paragraphs


def test_headline_directly_followed_by_text_without_a_blank_line(tmp_path: Path) -> None:
    article = parse_one(write(tmp_path / "a.txt", "Headline here\nFirst paragraph.\n\nSecond paragraph.\n"))
    assert article.title == "Headline here"
    assert article.paragraphs == ("First paragraph.", "Second paragraph.")


def test_headline_without_body_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (result,) = parse(write(tmp_path / "a.txt", "Only a headline\n"))
    assert isinstance(result, Skipped)
    assert "no body" in result.reason


# --- .html --------------------------------------------------------------------------------------------

def test_html_title_author_date_canonical_url_and_main_text(tmp_path: Path) -> None:
    article = parse_one(write(tmp_path / "story.html", HTML_PAGE))
    assert article.title == "Harbour Bridge Reopens After Repairs"
    assert article.byline == "Jane Reporter"
    assert article.date == "2024-03-05"
    assert article.url == "https://news.example.com/2024/03/05/harbour-bridge-reopens"
    assert list(article.paragraphs) == HTML_PARAGRAPHS


def test_html_without_a_date_gets_none_not_a_year_from_its_text(tmp_path: Path) -> None:
    page = ("<html><head><title>Paris desserts</title></head><body><article><h1>Paris desserts</h1><p>A creme "
            "brulee now costs 9 euros in Paris cafes, up from 7 euros in 2019, a survey of 200 cafes found.</p>"
            "<p>Waiters blame the price of eggs and sugar, which rose sharply.</p></article></body></html>")
    assert parse_one(write(tmp_path / "story.html", page)).date is None


def test_html_date_is_the_published_one_not_the_last_modified(tmp_path: Path) -> None:
    page = ('<html><head><title>Bridge</title><meta property="article:published_time" content="2024-03-01">'
            '<meta property="article:modified_time" content="2024-06-20"></head><body><article><h1>Bridge</h1>'
            "<p>The harbour bridge reopened to cars and cyclists on Friday after eight months of repairs.</p>"
            "<p>The council said the repairs cost 12m pounds.</p></article></body></html>")
    assert parse_one(write(tmp_path / "story.html", page)).date == "2024-03-01"


def test_html_scripts_navigation_and_styles_are_dropped(tmp_path: Path) -> None:
    article = parse_one(write(tmp_path / "story.htm", HTML_PAGE))
    everything = " ".join([article.title, *article.paragraphs])
    assert "MUST_NOT_BE_INDEXED" not in everything
    assert "color: red" not in everything
    assert "Home" not in article.paragraphs


CYRILLIC = ("Мост открыт после ремонта",
            "Городской мост снова открыт для машин и пешеходов после восьми месяцев ремонта, сообщили власти.")


@pytest.mark.parametrize(("meta", "encoding"), [
    ('<meta charset="windows-1251">', "cp1251"),
    ('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">', "koi8-r"),
    ('<meta charset="iso-8859-1">', "utf-8"),  # labelled Latin-1, written in UTF-8: the bytes win
])
def test_html_is_read_in_the_encoding_its_page_declares_unless_it_is_utf8(tmp_path: Path, meta: str,
                                                                           encoding: str) -> None:
    title, body = CYRILLIC
    page = (f"<html><head>{meta}<title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{body}</p><p>{body}</p></article></body></html>")
    article = parse_one(write(tmp_path / "story.html", page.encode(encoding)))
    assert article.title == title and article.paragraphs[0] == body


def test_html_without_main_text_is_skipped_with_a_reason(tmp_path: Path) -> None:
    page = "<html><head><script>x()</script></head><body></body></html>"
    (result,) = parse(write(tmp_path / "empty.html", page))
    assert isinstance(result, Skipped)
    assert result.reason


def test_html_tables_and_lists_are_read_as_rows_and_items(tmp_path: Path) -> None:
    page = ("<html><head><title>Vaccine trial</title></head><body><article><h1>Vaccine trial</h1>"
            "<p>A malaria vaccine showed 77% efficacy in a year-long trial, researchers said on Monday.</p>"
            "<p>The results were as follows:</p><ul><li>High-dose group: 77% efficacy</li>"
            "<li>Low-dose group: 71% efficacy</li></ul><p>The trial ran in four countries across Africa.</p>"
            "<table><tr><th>Country</th><th>Children</th></tr><tr><td>Kenya</td><td>1,400</td></tr>"
            "<tr><td>Mali</td><td>1,100</td></tr></table></article></body></html>")
    paragraphs = parse_one(write(tmp_path / "trial.html", page)).paragraphs
    assert [p for p in paragraphs if "group" in p or "Kenya" in p or "Mali" in p] == [
        "High-dose group: 77% efficacy", "Low-dose group: 71% efficacy", "Country: Kenya; Children: 1,400",
        "Country: Mali; Children: 1,100"]


def test_a_live_blogs_title_byline_time_stamps_and_json_ld_url_are_not_body_text(tmp_path: Path) -> None:
    page = textwrap.dedent("""\
        <html><head><title>Storm live updates</title><script type="application/ld+json">
        {"@type": "LiveBlogPosting", "url": "https://daily.example/storm"}</script></head><body><article>
        <h1>Storm live updates</h1>
        <p>By Jo Park</p>
        <div class="entry"><span class="time">11:42 PM</span>
        <p>Storm Bert has left 40,000 homes without power across Wales, the grid operator said.</p></div>
        <div class="entry"><span class="time">10:15 PM</span>
        <p>Winds of up to 82 mph were recorded at Aberdaron, the Met Office said.</p></div>
        <p>Bert is the second named storm of the season.</p>
        </article></body></html>""")
    article = parse_one(write(tmp_path / "live.html", page))
    assert (article.title, article.byline, article.url) == ("Storm live updates", "Jo Park", "https://daily.example/storm")
    assert [p[:10] for p in article.paragraphs] == ["Storm Bert", "Winds of u", "Bert is th"]


@pytest.mark.parametrize(("aside", "byline"), [
    ("", "Amara Nwosu and Jonas Ekberg"),
    ('<aside><div class="story-meta">By Other Writer</div></aside>', "Amara Nwosu and Jonas Ekberg"),
])
def test_a_pages_meta_line_of_date_and_byline_gives_both_and_is_not_body_text(tmp_path: Path, aside: str,
                                                                             byline: str) -> None:
    """trafilatura drops such a line as page furniture and finds no author in it; a byline in an aside (another
    story's) is not the article's."""
    page = textwrap.dedent(f"""\
        <html><head><title>Malaria vaccine trial</title></head><body>{aside}<article>
        <h1>Malaria vaccine trial</h1>
        <div class="meta">Published 2 November 2023 · By {byline}</div>
        <p>A new malaria vaccine showed 77% efficacy in a year-long trial involving 450 children, researchers said.</p>
        <p>The vaccine, called R21, is the first to meet the target of 75% efficacy set by health officials.</p>
        <p>Researchers at the University of Oxford said the vaccine could be made cheaply and at large scale.</p>
        <p>Malaria kills more than 600,000 people a year, most of them young children in Africa.</p>
        </article></body></html>""")
    article = parse_one(write(tmp_path / "vaccine.html", page))
    assert (article.byline, article.date) == (byline, "2023-11-02")
    assert [p[:10] for p in article.paragraphs] == ["A new mala", "The vaccin", "Researcher", "Malaria ki"]


@pytest.mark.parametrize(("line", "source"), [
    ("Published 2 November 2023 · By Amara Nwosu", None), ("2 Nov 2023 | by Amara Nwosu", None),
    ("By Amara Nwosu · 2 November 2023", None), ("Published 2 Nov 2023 · By Amara Nwosu | Northport Herald",
                                                "Northport Herald"),
    ("2 Nov 2023 | By Amara Nwosu | Reuters", "Reuters"),
])
def test_a_text_line_of_date_and_byline_in_either_order_gives_both(tmp_path: Path, line: str,
                                                                   source: str | None) -> None:
    article = parse_one(write(tmp_path / "a.md", f"# Vaccine trial\n\n{line}\n\nThe trial ended.\n"))
    assert (article.byline, article.date, article.source, article.paragraphs) == (
        "Amara Nwosu", "2023-11-02", source, ("The trial ended.",))


def test_a_cookie_consent_page_is_skipped_not_indexed(tmp_path: Path) -> None:
    page = ("<html><head><title>We value your privacy</title></head><body><article><h1>We value your privacy</h1>"
            "<p>We and our 842 partners store and access information on a device, such as cookies, and process "
            "personal data.</p><p>You may click to consent to our processing or manage your preferences.</p>"
            "<p>Accept all</p></article></body></html>")
    (result,) = parse(write(tmp_path / "consent.html", page))
    assert result == Skipped(str(tmp_path / "consent.html"), "a cookie or consent notice, no article text")


# --- .json / .jsonl -----------------------------------------------------------------------------------

def test_json_object_is_one_article_with_its_id_and_optional_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", json.dumps({
        "id": "museum-1", "title": "Museum reopens", "paragraphs": JSON_ONE_PARAGRAPHS,
        "url": "https://example.com/m", "date": "2024-01-02", "byline": "Arts Desk", "source": "Example"}))
    article = parse_one(path, article_id="ignored-for-json")
    assert article.article_id == "museum-1"
    assert article.title == "Museum reopens"
    assert (article.url, article.date, article.byline, article.source) == (
        "https://example.com/m", "2024-01-02", "Arts Desk", "Example")


def test_json_paragraphs_are_kept_verbatim_so_dataset_offsets_stay_valid(tmp_path: Path) -> None:
    obj = {"id": "m", "title": "t", "paragraphs": JSON_ONE_PARAGRAPHS}
    path = write(tmp_path / "one.json", json.dumps(obj))
    assert list(parse_one(path).paragraphs) == JSON_ONE_PARAGRAPHS


def test_json_without_title_takes_it_from_the_first_non_empty_paragraph(tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", json.dumps({"id": "m", "paragraphs": ["", "  Storm hits   coast. "]}))
    assert parse_one(path).title == "Storm hits coast."


def test_json_list_is_one_article_per_object(tmp_path: Path) -> None:
    path = write(tmp_path / "many.json", json.dumps([
        {"id": "a", "title": "A", "paragraphs": ["Alpha."]},
        {"id": "b", "title": "B"},
        {"id": 7, "title": "C", "paragraphs": ["Gamma."]},
    ]))
    results = parse(path)
    assert [r.article_id for r in results if isinstance(r, Article)] == ["a", "7"]
    (skipped,) = [r for r in results if isinstance(r, Skipped)]
    assert skipped.where == f"{path}[1]"
    assert "paragraphs" in skipped.reason


def test_json_list_wrapped_in_an_object_is_read_like_a_bare_list(tmp_path: Path) -> None:
    path = write(tmp_path / "export.json", json.dumps({"source": "cms", "articles": [
        {"id": "a", "title": "A", "paragraphs": ["Alpha."]}, {"id": "b", "title": "B"}]}))
    results = parse(path)
    assert [r.article_id for r in results if isinstance(r, Article)] == ["a"]
    assert [r.where for r in results if isinstance(r, Skipped)] == [f"{path}:articles[1]"]


@pytest.mark.parametrize("text", [
    json.dumps([{"id": "a", "paragraphs": ["Alpha."]}, {"id": "b", "paragraphs": ["Beta."]}], indent=2)[:-30],
    json.dumps({"id": "a", "paragraphs": ["Alpha.", "Beta."]}, indent=2)[:-10],
    '{"articles": [\n{"id": "a", "paragraphs": ["Alpha."]},\n{"id": "b", "paragraphs": ["Be',
])
def test_a_truncated_json_document_is_one_skip_not_one_per_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "cut.json", text)
    (skipped,) = parse(path)
    assert isinstance(skipped, Skipped) and (skipped.where, skipped.reason[:13]) == (str(path), "invalid JSON ")


def test_jsonl_broken_lines_are_skipped_with_file_and_line_and_good_ones_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "articles.jsonl", jsonl(
        {"id": "first", "title": "First", "paragraphs": ["One."]},
        '{"id": "cut", "title": "cut off mid-wr',
        "",
        "not json at all",
        {"id": "no-paragraphs", "title": "Nothing"},
        {"title": "no id", "paragraphs": ["Orphan."]},
        {"id": "blank", "paragraphs": ["", "   "]},
        ["a", "list"],
        {"id": "last", "title": "Last", "paragraphs": ["Two."]},
    ))
    results = parse(path)
    assert [r.article_id for r in results if isinstance(r, Article)] == ["first", "last"]
    skipped = {r.where: r.reason for r in results if isinstance(r, Skipped)}
    assert set(skipped) == {f"{path}:{n}" for n in (2, 4, 5, 6, 7, 8)}
    assert "invalid JSON" in skipped[f"{path}:2"]
    assert "invalid JSON" in skipped[f"{path}:4"]
    assert "paragraphs" in skipped[f"{path}:5"]
    assert "id" in skipped[f"{path}:6"]
    assert "paragraphs" in skipped[f"{path}:7"]
    assert "object" in skipped[f"{path}:8"]


@pytest.mark.parametrize("name, where", [("feed.jsonl", ":3"), ("feed.json", "[2]")])
def test_a_repeated_id_in_one_file_is_skipped_where_it_repeats_and_the_first_kept(tmp_path: Path, name: str,
                                                                                where: str) -> None:
    objects = [{"id": "same", "title": "First", "paragraphs": ["Kept."]},
               {"id": "other", "title": "Other", "paragraphs": ["Also kept."]},
               {"id": "same", "title": "Again", "paragraphs": ["Dropped."]}]
    path = write(tmp_path / name, jsonl(*objects) if name.endswith("l") else json.dumps(objects))
    results = parse(path)
    assert [(r.article_id, r.title) for r in results if isinstance(r, Article)] == [("same", "First"),
                                                                                     ("other", "Other")]
    (skipped,) = [r for r in results if isinstance(r, Skipped)]
    assert (skipped.where, skipped.reason.startswith("duplicate article id 'same'")) == (f"{path}{where}", True)


def test_jsonl_of_the_shared_datasets_format_with_crlf_and_bom(tmp_path: Path) -> None:
    text = jsonl({"id": "Super_Bowl_50", "title": "Super_Bowl_50", "paragraphs": ["A game."]},
                 {"id": "Warsaw", "title": "Warsaw", "paragraphs": ["Warsaw is the capital of Poland."]})
    path = write(tmp_path / "articles.jsonl", "\ufeff" + text.replace("\n", "\r\n"))
    results = parse(path)
    assert [(r.article_id, r.paragraphs) for r in results] == [
        ("Super_Bowl_50", ("A game.",)), ("Warsaw", ("Warsaw is the capital of Poland.",))]


def test_a_jsonl_of_questions_not_articles_is_one_skipped_line_not_one_per_question(tmp_path: Path) -> None:
    path = write(tmp_path / "questions.jsonl", jsonl(
        *({"id": f"q{n}", "question": "Who?", "answers": ["Someone"]} for n in range(3))))
    (skipped,) = parse(path)
    assert skipped == Skipped(str(path), 'no articles: none of its 3 objects is one (no "paragraphs" list of strings)')


def test_html_markup_a_feed_left_in_its_text_is_taken_off(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.json", json.dumps({
        "id": "budget", "title": "Council <b>approves</b> budget",
        "paragraphs": ["<p>The council approved a <strong>$1.2 billion</strong> budget &amp; cut hours.</p>",
                       "The <em>rule</em> holds.", "If a<b and c>d, it holds."]}))
    article = parse_one(path)
    assert (article.title, article.paragraphs) == (
        "Council approves budget",
        ("The council approved a $1.2 billion budget & cut hours.", "The rule holds.", "If a<b and c>d, it holds."))
    (skipped,) = parse(write(tmp_path / "empty.json", json.dumps({"id": "e", "paragraphs": ["<p></p>", "<br>"]})))
    assert skipped.reason == "no non-empty paragraphs"


def test_empty_json_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (result,) = parse(write(tmp_path / "empty.jsonl", "\n  \n"))
    assert isinstance(result, Skipped)
    assert "empty" in result.reason


@pytest.mark.parametrize(("url", "link"), [
    ("https://example.org/a", "https://example.org/a"),
    ("http://example.org", "http://example.org"),
    ("javascript:alert(1)", None),
    ("JavaScript:alert(1)", None),
    (" javascript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("//example.org/x", None),
    ("/relative", None),
    ("https://", None),
    ("http://exa\nmple.org", None),
    (None, None),
    ("", None),
])
def test_only_http_and_https_urls_are_links(url: str | None, link: str | None) -> None:
    assert web_link(url) == link


def test_an_article_keeps_its_url_only_if_it_is_a_web_link(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", json.dumps({"id": "a", "title": "T", "paragraphs": ["Body."],
                                                  "url": "javascript:alert(1)"}))
    assert parse_one(path, article_id="a").url is None
    assert Article("b", "T", ("Body.",), url=" https://example.org/b ").url == "https://example.org/b"


# --- .md: markdown blocks and inline marks ------------------------------------------------------------------------

SHIP_MD = """# Ship named

The new ship will be called *Boaty McBoatface*, the _Research Council_ said, after 124,000 votes.

It cost `200m` pounds and has ~~three~~ four decks, see <https://nerc.example> and [the report][1].

[1]: https://nerc.example/report

```
var decks = 4;
```

| Floor | Books |
| --- | --- |
| Ground | 12,000 |
| First | 30,500 |

- The library cost **$14 million** to build.
- It was designed by [Arkwright Partners](https://arkwright.example),
  a firm from Leeds.

> "This is the biggest order in our history," Lars Holm said.
"""


def test_markdown_that_only_looks_like_a_link_or_a_fence_stays_text(tmp_path: Path) -> None:
    text = ("# Note\n\n[Editor's note]: This story was corrected on Monday.\n\n"
            "It was founded in 1990.[1][2] It won.\n\n```\nA fence never closed keeps its text.\n")
    assert parse_one(write(tmp_path / "a.md", text)).paragraphs == (
        "[Editor's note]: This story was corrected on Monday.", "It was founded in 1990.[1][2] It won.",
        "``` A fence never closed keeps its text.")


def test_markdown_marks_are_dropped_and_its_blocks_read_as_paragraphs(tmp_path: Path) -> None:
    article = parse_one(write(tmp_path / "ship.md", SHIP_MD))
    assert article.paragraphs == (
        "The new ship will be called Boaty McBoatface, the Research Council said, after 124,000 votes.",
        "It cost 200m pounds and has four decks, see https://nerc.example and the report.",
        "Floor: Ground; Books: 12,000",
        "Floor: First; Books: 30,500",
        "The library cost $14 million to build.",
        "It was designed by Arkwright Partners, a firm from Leeds.",
        '"This is the biggest order in our history," Lars Holm said.',
    )


def test_markdown_lists_and_tables_right_after_a_line_of_prose_are_read_as_such(tmp_path: Path) -> None:
    text = ("# Library reopens\n\nThe new layout by floor:\n- Ground: children's library\n- Roof: reading garden,\n"
            "  open April to October\nIt reopened in 2004.\n3 people came.\n\nKey numbers:\nItem | Value\n--- | ---\n"
            "Capacity | 320 MW\nJobs | 450\n")
    assert parse_one(write(tmp_path / "a.md", text)).paragraphs == (
        "The new layout by floor:", "Ground: children's library", "Roof: reading garden, open April to October",
        "It reopened in 2004. 3 people came.", "Key numbers:", "Item: Capacity; Value: 320 MW",
        "Item: Jobs; Value: 450")


def test_markdown_footnote_marks_are_dropped_and_their_text_kept(tmp_path: Path) -> None:
    text = "# Farm\n\nRanchers raised concerns.[^1] Sheep will graze.\n\n[^1]: The Ranchers Association objected.\n"
    assert parse_one(write(tmp_path / "a.md", text)).paragraphs == (
        "Ranchers raised concerns. Sheep will graze.", "The Ranchers Association objected.")


@pytest.mark.parametrize("top", ["By Elena Sokolova\nPublished: 3 Feb 2025, 18:05 GMT",
                                 "Share on Twitter | Share on Facebook\n\n*By Elena Sokolova · 3 Feb 2025*"])
def test_byline_and_date_lines_are_metadata_without_a_blank_line_or_after_share_buttons(tmp_path: Path,
                                                                                       top: str) -> None:
    article = parse_one(write(tmp_path / "a.md", f"# Strike called\n\n{top}\n\nDrivers will strike.\n"))
    assert (article.byline, article.date, article.paragraphs) == ("Elena Sokolova", "2025-02-03",
                                                                  ("Drivers will strike.",))


@pytest.mark.parametrize(("top", "source"), [
    ("By Owen Pritchard\nPublished 3 Dec 2024 · Northport Herald", "Northport Herald"),  # a date and its source
    ("By Owen Pritchard\n\nPublished 3 Dec 2024 · Northport Herald", "Northport Herald"),
    ("Published 3 Dec 2024 · Northport Herald\nBy Owen Pritchard", "Northport Herald"),
    ("Owen Pritchard\nTuesday 3 December 2024", None),  # a name alone over a date
])
def test_a_byline_over_a_date_line_in_any_order_gives_both(tmp_path: Path, top: str, source: str | None) -> None:
    """The byline was read as "Owen Pritchard Published 3 Dec 2024", or both lines as body text."""
    article = parse_one(write(tmp_path / "a.md", f"# Storm Ingrid\n\n{top}\n\nThe storm hit Wales.\n"))
    assert (article.byline, article.date, article.source, article.paragraphs) == (
        "Owen Pritchard", "2024-12-03", source, ("The storm hit Wales.",))


@pytest.mark.parametrize("lines", [
    "Owen Pritchard was there\n3 December 2024",  # a sentence, not a name
    "Storm Ingrid Hits Wales\n3 December 2024",  # a headline's words, not a name
    "Storm Ingrid\nNorthport Herald · Wales",  # no date
    "3 Dec 2024 | Wales", "Owen Pritchard · 3 Dec 2024", "News · 3 Dec 2024",  # a date that says not what it is
])
def test_lines_that_are_no_byline_and_date_stay_body_text(tmp_path: Path, lines: str) -> None:
    article = parse_one(write(tmp_path / "a.md", f"# Storm Ingrid\n\n{lines}\n\nThe storm hit Wales.\n"))
    assert (article.byline, article.source, len(article.paragraphs)) == (None, None, 2)


def test_a_name_over_a_date_below_the_body_is_body_text(tmp_path: Path) -> None:
    text = "# Letters\n\nBy Owen Pritchard\n\nThe storm hit Wales.\n\nMargaret Hollis\nTuesday 3 December 2024\n"
    article = parse_one(write(tmp_path / "a.md", text))
    assert (article.byline, article.date) == ("Owen Pritchard", None)
    assert article.paragraphs == ("The storm hit Wales.", "Margaret Hollis Tuesday 3 December 2024")


@pytest.mark.parametrize(("caption", "kept"), [
    ("Photo: Fallen trees blocked the A470. (Credit: Gwen Hughes)", ()), ("Image: Getty Images", ()),
    ("Image: Getty Images\nRoads were closed.", ("Roads were closed.",)),  # the caption line only
    ("Fallen trees blocked the A470. Photograph: Gwen Hughes/PA", ("Fallen trees blocked the A470.",)),
    ("Firefighters worked for six hours. (Credit: Gwen Hughes)", ("Firefighters worked for six hours.",)),
    ("The photo: a 50/50 split", ("The photo: a 50/50 split",)),
])
def test_a_photo_caption_in_words_is_not_body_text_nor_a_credit(tmp_path: Path, caption: str,
                                                                kept: tuple[str, ...]) -> None:
    """A caption line ("Photo: ...", "Image: ...") is dropped; a credit ending a paragraph is dropped from it,
    and the paragraph kept."""
    article = parse_one(write(tmp_path / "a.md", f"# Storm Ingrid\n\n{caption}\n\nThe storm hit Wales.\n"))
    assert article.paragraphs == (*kept, "The storm hit Wales.")


@pytest.mark.parametrize(("line", "byline", "source"), [
    ("By Elena Sokolova | Northport Herald via Regional Wire | 3 Feb 2025", "Elena Sokolova",
     "Northport Herald via Regional Wire"),
    ("By Elena Sokolova · Northport Herald", "Elena Sokolova", "Northport Herald"),
    ("By Jane Doe, Political Editor", "Jane Doe, Political Editor", None),
    ("By Jane Doe | Staff Writer", "Jane Doe | Staff Writer", None),  # a post, a time, a handle: no source
    ("By Jane Doe · 5 min read", "Jane Doe · 5 min read", None),
    ("By Jane Doe | @janedoe", "Jane Doe | @janedoe", None),
])
def test_a_source_set_after_the_byline_by_a_bar_or_a_dot_is_the_source(tmp_path: Path, line: str, byline: str,
                                                                        source: str | None) -> None:
    article = parse_one(write(tmp_path / "a.md", f"# Strike called\n\n{line}\n\nDrivers will strike.\n"))
    assert (article.byline, article.source, article.paragraphs) == (byline, source, ("Drivers will strike.",))


def test_a_text_file_keeps_a_paragraph_opening_with_a_dash_as_prose(tmp_path: Path) -> None:
    """The BBC corpus has such paragraphs ("- Shares in UK pharmaceutical..."): they are not markdown lists."""
    article = parse_one(write(tmp_path / "a.txt", "Shares fall\n\nShares fell.\n\n- Shares in drug firms fell.\n"
                                                  "- Oil rose.\n"))
    assert article.paragraphs == ("Shares fell.", "- Shares in drug firms fell. - Oil rose.")


@pytest.mark.parametrize("line", ["By Carla Mendes | 5 March 2024", "By Carla Mendes, 5 March 2024",
                                  "By Carla Mendes, March 5, 2024", "*By* **Carla Mendes** | 5 March 2024"])
def test_a_byline_ending_with_a_date_gives_both(tmp_path: Path, line: str) -> None:
    article = parse_one(write(tmp_path / "a.md", f"# Jets ordered\n\n{line}\n\nSkyNord ordered 40 jets.\n"))
    assert (article.byline, article.date, article.paragraphs) == ("Carla Mendes", "2024-03-05",
                                                                  ("SkyNord ordered 40 jets.",))
