// Chat page: ask /api/ask, render answers with their citations. Article text only ever goes into the page
// through textContent / text nodes, never as HTML.
(function () {
  "use strict";

  var SESSION = "qa.session", TRANSCRIPT = "qa.transcript", TOKEN = "qa.token", SCROLL = "qa.scroll",
    DRAFT = "qa.draft", UNDONE = "qa.undone", KEEP = 200;
  // How long an answer may take before the page gives up on it (the server's own budget is 10 s a request).
  var TIMEOUT_MS = 30000;
  var store = (function () {
    try { var s = window.sessionStorage; s.setItem("qa.probe", "1"); s.removeItem("qa.probe"); return s; }
    catch (e) { var m = {}; return { getItem: function (k) { return k in m ? m[k] : null; },
      setItem: function (k, v) { m[k] = String(v); }, removeItem: function (k) { delete m[k]; } }; }
  })();

  var form, box, send, log, empty, tokenRow, tokenBox, hint, HINT, undoRow, transcript = [];
  var undone = null, leaving = false;
  // The question being answered: { question, pending (its "Looking…" line), controller (aborts its request) }.
  var asking = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // Ids keep their slashes in the link (business/001), unless a segment is "." or "..", which the browser would
  // resolve away: then the whole id is one encoded segment (the server decodes %2F back to "/"). The page is
  // told what the passage is to the question (`role`: answer, related or closest) and where the short answer
  // sits in it (`short`: [start, end] in the paragraph, code points).
  function articleHref(c, role, short) {
    var segments = String(c.article_id).split("/");
    var dotted = segments.some(function (s) { return s === "." || s === ".."; });
    var id = dotted ? encodeURIComponent(c.article_id) : segments.map(encodeURIComponent).join("/");
    var extra = (role ? "&as=" + role : "") + (short ? "&short_start=" + short[0] + "&short_end=" + short[1] : "");
    return "/articles/" + id + "?p=" + c.paragraph_index + "&start=" + c.start + "&end=" + c.end + extra +
      "#p-" + c.paragraph_index;
  }

  // Where the short answer starts in the answer sentence (UTF-16 units), -1 when there is none.
  function shortAt(a) {
    return a.short_answer ? a.answer.indexOf(a.short_answer) : -1;
  }

  // Where the short answer sits in the paragraph of the answer's citation, in code points (as the API counts).
  function shortSpan(a, c) {
    var i = shortAt(a);
    if (i < 0) return null;
    var start = c.start + Array.from(a.answer.slice(0, i)).length;
    return [start, start + Array.from(a.short_answer).length];
  }

  // The API's offsets count code points (as Python does); a JS string counts UTF-16 units, so slicing it
  // directly cuts the wrong span after any emoji or other astral character. Array.from splits by code point.
  function quote(c) {
    return Array.from(String(c.text)).slice(c.start, c.end).join("");
  }

  function confidenceWords(x) {
    if (x >= 0.8) return "very likely";
    if (x >= 0.5) return "likely";
    return "unsure";
  }

  // A citation of the article's header (paragraph_index -1: byline, date, source, url) or of a body paragraph.
  function chip(c, role, short) {
    var a = el("a", "chip");
    a.href = articleHref(c, role, short);
    var dated = c.date ? ", " + c.date : "";
    var header = c.paragraph_index < 0;
    var where = header ? "header" : "paragraph " + (c.paragraph_index + 1);
    a.setAttribute("aria-label", "Source " + c.n + ": " + c.title + dated + ", " + where);
    a.title = c.title + dated + " (" + where + ")";
    a.append(el("span", "n", String(c.n)), el("span", "t", c.title));
    if (c.date) a.append(el("span", "d", c.date));
    a.append(el("span", "p", header ? "header" : "¶ " + (c.paragraph_index + 1)));
    return a;
  }

  function sentence(a) {
    var p = el("p", "answer");
    var i = shortAt(a);
    if (i < 0) { p.textContent = a.answer; return p; }
    p.append(document.createTextNode(a.answer.slice(0, i)), el("strong", null, a.short_answer),
      document.createTextNode(a.answer.slice(i + a.short_answer.length)));
    return p;
  }

  function renderAnswer(a, restarted) {
    var li = el("li", "msg bot");
    li.append(el("span", "visually-hidden", "Answer:"));
    if (restarted) {
      li.append(el("p", "meta", "The earlier conversation had expired on the server, so this question was " +
        "answered on its own."));
    }
    var cites = Array.isArray(a.citations) ? a.citations : [];
    if (a.found && a.answer) {
      li.append(sentence(a));
      var meta = el("p", "meta");
      var confidence = Number(a.confidence) || 0;
      meta.append("Confidence: ", el("span", "conf", confidenceWords(confidence)),
        " (" + Math.round(confidence * 100) + "%)");
      li.append(meta);
      if (cites.length) {
        var ol = el("ol", "sources");
        ol.setAttribute("aria-label", "Sources");
        cites.forEach(function (c, k) {
          var item = el("li");
          item.append(k === 0 ? chip(c, "answer", shortSpan(a, c)) : chip(c, "related"));
          ol.append(item);
        });
        li.append(ol);
      }
    } else {
      li.append(el("p", "answer none", "I couldn’t find the answer to that in the articles."));
      if (cites.length) {
        li.append(el("p", "meta", "The closest passages:"));
        var list = el("ol", "passages");
        cites.forEach(function (c) {
          var item = el("li");
          item.append(el("q", null, quote(c)), chip(c, "closest"));
          list.append(item);
        });
        li.append(list);
      }
    }
    return li;
  }

  function render(entry) {
    if (entry.q !== undefined) {
      var li = el("li", "msg user");
      li.append(el("span", "visually-hidden", "You asked: "), entry.q);
      return li;
    }
    if (entry.a !== undefined) return renderAnswer(entry.a, entry.restarted);
    var li = el("li", "msg bot error");
    li.append(withCode("Sorry: " + entry.e));
    return li;
  }

  // A server message as a paragraph, its `backticked` parts (commands) set as code, as the server's own pages do.
  function withCode(text) {
    var p = el("p"), parts = text.split("`");
    if (parts.length % 2 === 0) parts = [text];  // an unpaired backtick: nothing is code
    parts.forEach(function (part, k) { p.append(k % 2 ? el("code", null, part) : part); });
    return p;
  }

  function add(entry, save) {
    var node = render(entry);
    log.append(node);
    empty.hidden = true;
    if (save !== false) {
      transcript.push(entry);
      // The page shows what is kept, so a reload shows the same messages (and the saved scroll fits them).
      while (transcript.length > KEEP) { transcript.shift(); log.firstElementChild.remove(); }
      persist();
    }
    return node;
  }

  function persist() {
    try { store.setItem(TRANSCRIPT, JSON.stringify(transcript)); } catch (e) { /* full: keep going */ }
  }

  function errorText(status, data) {
    var d = data && data.detail;
    if (status === 413) return "that question is too long.";
    if (status === 401) return "this server needs an access token. Enter it above the question box and ask again.";
    if (Array.isArray(d) && d.length) {
      var first = d[0] || {};
      return "that question could not be sent (" + String(first.msg || "invalid request") + ").";
    }
    if (typeof d === "string" && d) return d;
    if (status === 503) return "the server is busy. Please try again in a moment.";
    return "something went wrong (HTTP " + status + "). Please try again.";
  }

  // A question that was not answered goes back into the box (unless another is being typed), to ask again.
  function keep(question) {
    if (!box.value) { box.value = question; boxChanged(); }
  }

  // After the box's text changed: fit its height to the text, and say when the text reached the box's limit (a
  // longer paste is cut there).
  function boxChanged() {
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight, 192) + "px";
    var limit = box.maxLength, full = limit > 0 && box.value.length >= limit;
    hint.textContent = full ? "Questions can be at most " + limit + " characters long; the rest was left out."
      : HINT;
    hint.classList.toggle("full", full);
  }

  function ask(question) {
    question = String(question || "").trim();
    if (asking) { hint.textContent = "Please wait for the answer to the last question."; return; }
    if (!question) { box.value = ""; boxChanged(); form.reportValidity(); box.focus(); return; }
    letUndoGo();
    send.disabled = true;
    add({ q: question });
    box.value = "";
    boxChanged();
    var pending = el("li", "msg bot pending", "Looking through the articles…");
    log.append(pending);
    pending.scrollIntoView({ block: "end", behavior: "smooth" });
    var mine = asking = { question: question, pending: pending, controller: new AbortController(), late: false };
    var timer = window.setTimeout(function () { mine.late = true; mine.controller.abort(); }, TIMEOUT_MS);

    var body = { question: question };
    var sid = store.getItem(SESSION);
    if (sid) body.session_id = sid;
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    var token = tokenBox.value.trim();
    if (token) { headers.Authorization = "Bearer " + token; store.setItem(TOKEN, token); }

    var status = 0;
    fetch("/api/ask", { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin",
                        signal: mine.controller.signal })
      .then(function (r) { status = r.status; return r.json().catch(function () { return null; }); })
      .then(function (data) {
        if (asking !== mine) return;  // "New conversation" was pressed meanwhile: this reply belongs to no one
        var node;
        if (status === 200 && data && typeof data.session_id === "string") {
          store.setItem(SESSION, data.session_id);
          node = settle(sid && data.session_id !== sid ? { a: data, restarted: true } : { a: data });
        } else {
          if (status === 401) { tokenRow.hidden = false; }
          node = settle({ e: errorText(status, data) });
          keep(question);
        }
        node.scrollIntoView({ block: "nearest", behavior: "smooth" });
      })
      .catch(function () {
        if (asking !== mine) return;
        if (leaving) return;  // the page is going away, not the server (pagehide kept the question as a draft)
        settle({ e: mine.late ? "the server took too long to answer. Please try again."
          : "the server could not be reached. Check that it is running, then try again." })
          .scrollIntoView({ block: "nearest", behavior: "smooth" });
        keep(question);
      })
      .then(function () {
        window.clearTimeout(timer);
        if (status === 401) tokenBox.focus(); else if (!leaving) box.focus();
      });
  }

  // The question being answered's reply (an answer or an error) in place of its "Looking…" line.
  function settle(entry) {
    forget();
    return add(entry);
  }

  // Let go of the question being answered, if any (a reply still on its way is ignored): the box is free again.
  function forget() {
    if (!asking) return;
    asking.pending.remove();
    asking.controller.abort();  // nothing to abort once its reply is in
    asking = null;
    send.disabled = false;
    hint.textContent = HINT;
  }

  // "New conversation" keeps what it cleared until the next question, so a slip of the finger can be undone
  // (after a reload too).
  function reset() {
    forget();
    var left = unanswered(transcript);
    if (left !== null) keep(left);  // asked again from the box, unless something else is being typed there
    if (transcript.length) {
      undone = { transcript: transcript, session: store.getItem(SESSION) };
      store.setItem(UNDONE, JSON.stringify(undone));
    }
    undoRow.hidden = !undone;
    store.removeItem(SESSION);
    store.removeItem(SCROLL);
    store.removeItem(TRANSCRIPT);
    transcript = [];
    log.replaceChildren();
    empty.hidden = false;
    box.focus();
  }

  function letUndoGo() {
    undone = null;
    undoRow.hidden = true;
    store.removeItem(UNDONE);
  }

  function undo() {
    var back = undone;
    letUndoGo();
    if (!back) return;
    if (back.session) store.setItem(SESSION, back.session);
    back.transcript.forEach(function (entry) { add(entry); });
    window.scrollTo(0, document.documentElement.scrollHeight);
    box.focus();
  }

  // Takes off the questions ending `entries` that no reply followed (the page went away, or "New conversation" was
  // pressed, while one was being answered), so none is shown without its reply; returns the last one's text.
  function unanswered(entries) {
    var last = null;
    while (entries.length && entries[entries.length - 1] && entries[entries.length - 1].q !== undefined) {
      last = String(entries.pop().q);
    }
    return last;
  }

  // The transcript of this tab, back where the reader left it (coming back from a source, or on a reload): the
  // page builds it after loading, too late for the browser's own scroll restoration.
  function restore() {
    var draft = store.getItem(DRAFT), saved = null;
    store.removeItem(DRAFT);
    if (draft) keep(draft);  // a question left unanswered when the page went away: ask it again
    try { saved = JSON.parse(store.getItem(TRANSCRIPT) || "null"); } catch (e) { saved = null; }
    try { undone = JSON.parse(store.getItem(UNDONE) || "null"); } catch (e) { undone = null; }
    if (undone && Array.isArray(undone.transcript)) unanswered(undone.transcript);
    if (!undone || !Array.isArray(undone.transcript) || !undone.transcript.length
        || Array.isArray(saved) && saved.length) letUndoGo();
    else undoRow.hidden = false;
    if (!Array.isArray(saved)) return;
    var left = unanswered(saved);
    saved.forEach(function (entry) {
      if (entry && typeof entry === "object") { transcript.push(entry); add(entry, false); }
    });
    if (left !== null) { keep(left); persist(); }  // to ask again (the draft, if any, is in the box already)
    var y = parseInt(store.getItem(SCROLL), 10);
    window.scrollTo(0, isNaN(y) ? document.documentElement.scrollHeight : y);
  }

  // The header and the question box stick to the window's edges: a message scrolled into view must sit between.
  function trackStickyEdges() {
    var header = document.querySelector(".top"), root = document.documentElement.style;
    var set = function () {
      root.setProperty("--header-height", (header ? header.offsetHeight : 0) + "px");
      root.setProperty("--composer-height", form.offsetHeight + "px");
    };
    set();
    if (!window.ResizeObserver) { window.addEventListener("resize", set); return; }
    var watch = new ResizeObserver(set);
    watch.observe(form);
    if (header) watch.observe(header);
  }

  function waitForIndex() {
    window.setTimeout(function () {
      fetch("/healthz").then(function (r) {
        if (r.ok) window.location.reload(); else waitForIndex();
      }).catch(waitForIndex);
    }, 5000);
  }

  function start() {
    form = document.getElementById("ask-form");
    box = document.getElementById("question");
    send = document.getElementById("send");
    log = document.getElementById("conversation");
    empty = document.getElementById("empty");
    tokenRow = document.getElementById("token-row");
    tokenBox = document.getElementById("token");
    hint = document.getElementById("hint");
    HINT = hint.textContent;
    tokenBox.value = store.getItem(TOKEN) || "";
    if (tokenBox.value) tokenRow.hidden = false;

    form.addEventListener("submit", function (ev) { ev.preventDefault(); ask(box.value); });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); ask(box.value); }
    });
    box.addEventListener("input", boxChanged);
    document.getElementById("new-conversation").addEventListener("click", reset);
    undoRow = document.getElementById("undo-row");
    document.getElementById("undo").addEventListener("click", undo);
    Array.prototype.forEach.call(document.querySelectorAll(".example"), function (b) {
      b.addEventListener("click", function () { ask(b.textContent); });
    });
    trackStickyEdges();
    if ("scrollRestoration" in history) history.scrollRestoration = "manual";
    window.addEventListener("pagehide", function () {
      leaving = true;
      store.setItem(SCROLL, String(Math.round(window.scrollY)));
      // the question being asked, else what is typed (the page reloads itself once an index appears)
      var draft = asking ? asking.question : box.value.trim() ? box.value : "";
      if (draft) store.setItem(DRAFT, draft); else store.removeItem(DRAFT);
    });
    window.addEventListener("pageshow", function (ev) {
      leaving = false;
      if (ev.persisted) store.removeItem(DRAFT);  // the page is back as it was: the draft saved on leaving is in it
      if (!ev.persisted || !asking) return;  // back from the cache with its question cut off: ask it again
      var question = asking.question;
      forget();
      if (unanswered(transcript) !== null) { log.lastElementChild.remove(); persist(); }
      keep(question);
    });
    restore();
    box.focus({ preventScroll: true });  // ready to type into, wherever the transcript was scrolled back to
    if (document.body.getAttribute("data-ready") !== "true") waitForIndex();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
