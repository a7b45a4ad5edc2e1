/* The playground: up to four models side by side, each answer streaming into its column.
 * State is one conversation object (see playground-store.js); the DOM is redrawn from it. */
(function () {
  "use strict";

  const Store = window.PlaygroundStore;
  const Net = window.PlaygroundStream;
  const Code = window.PlaygroundCode;
  const Render = window.PlaygroundRender;
  const $ = function (sel, root) { return (root || document).querySelector(sel); };
  const MODELS = JSON.parse($("#pg-models").textContent);
  const BY_ID = {};
  MODELS.forEach(function (m) { BY_ID[m.id] = m; });
  const MAX = Number($("#pg-app").dataset.maxColumns) || 4;
  const SIGNED_IN = $("#pg-app").dataset.signedIn === "1";

  let list = Store.load();
  let conv = null;
  let attached = null; // data URL of the image for the next message
  const running = {}; // model id -> AbortController
  const columns = {}; // model id -> column element

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(label, className, onClick, title) {
    const b = el("button", "button button-secondary button-small " + (className || ""), label);
    b.type = "button";
    if (title) { b.title = title; b.setAttribute("aria-label", title); }
    b.addEventListener("click", onClick);
    return b;
  }

  function nameOf(id) { return BY_ID[id] ? BY_ID[id].name : id; }

  /* ---- conversations ---------------------------------------------------------------- */

  function persist() {
    if (!conv) return;
    conv.updated = Date.now();
    const i = list.findIndex(function (c) { return c.id === conv.id; });
    if (i >= 0) list[i] = conv; else list.unshift(conv);
    if (!Store.save(list)) flash("This browser's storage is full: delete old conversations or images.");
    Store.setCurrent(conv.id);
    drawSidebar();
  }

  function open(id) {
    stopAll();
    conv = list.find(function (c) { return c.id === id; }) || null;
    if (!conv) conv = Store.blank(startModels(), readParams(), $("#pg-system").value);
    // An answer that was streaming when the page went away ends where it stopped.
    Object.keys(conv.threads).forEach(function (m) {
      conv.threads[m].forEach(function (msg) { if (msg.streaming) { delete msg.streaming; msg.stopped = true; } });
    });
    writeParams(conv.params, conv.system);
    Store.setCurrent(conv.id);
    drawAll();
  }

  function startModels() {
    const initial = JSON.parse($("#pg-initial").textContent);
    if (initial.length) return initial;
    return conv ? conv.models.slice() : [];
  }

  function newChat() {
    stopAll();
    conv = Store.blank(conv ? conv.models : startModels(), readParams(), $("#pg-system").value);
    drawAll();
  }

  function drawSidebar() {
    const ul = $("#pg-conversations");
    ul.replaceChildren();
    const sorted = list.slice().sort(function (a, b) { return b.updated - a.updated; });
    if (!sorted.length) ul.appendChild(el("li", "muted small pg-empty", "Your conversations appear here. They stay in this browser."));
    sorted.forEach(function (c) {
      const li = el("li", "pg-conv" + (conv && c.id === conv.id ? " is-current" : ""));
      li.dataset.id = c.id;
      const openBtn = el("button", "pg-conv-open", c.title);
      openBtn.type = "button";
      openBtn.addEventListener("click", function () { open(c.id); });
      li.append(openBtn,
        button("✎", "pg-conv-rename", function () { rename(c); }, "Rename “" + c.title + "”"),
        button("×", "pg-conv-delete", function () { remove(c.id); }, "Delete “" + c.title + "”"));
      ul.appendChild(li);
    });
  }

  function rename(c) {
    const title = window.prompt("Name this conversation", c.title);
    if (title === null || !title.trim()) return;
    c.title = title.trim().slice(0, 200);
    Store.save(list);
    drawSidebar();
  }

  function remove(id) {
    list = list.filter(function (c) { return c.id !== id; });
    Store.save(list);
    if (conv && conv.id === id) newChat(); else drawSidebar();
  }

  /* ---- parameters ------------------------------------------------------------------- */

  function readParams() {
    return {
      temperature: $("#pg-temperature").value, max_tokens: $("#pg-max-tokens").value,
      top_p: $("#pg-top-p").value, reasoning: $("#pg-reasoning").value, sort: $("#pg-sort").value,
      order: $("#pg-order").value, allow_fallbacks: $("#pg-fallbacks").checked,
    };
  }

  function writeParams(p, system) {
    p = p || {};
    $("#pg-temperature").value = p.temperature || "";
    $("#pg-max-tokens").value = p.max_tokens || "";
    $("#pg-top-p").value = p.top_p || "";
    $("#pg-reasoning").value = p.reasoning || "";
    $("#pg-sort").value = p.sort || "";
    $("#pg-order").value = p.order || "";
    $("#pg-fallbacks").checked = p.allow_fallbacks !== false;
    $("#pg-system").value = system || "";
  }

  function requestBody(model, thread) {
    return Code.requestBody(conv, model, thread, BY_ID[model]);
  }

  /* ---- model picker ----------------------------------------------------------------- */

  function search() {
    const q = $("#pg-search").value.trim().toLowerCase();
    const ul = $("#pg-results");
    ul.replaceChildren();
    ul.hidden = !q;
    if (!q) return;
    const hits = MODELS.filter(function (m) {
      return m.name.toLowerCase().indexOf(q) >= 0 || m.id.indexOf(q) >= 0;
    }).slice(0, 8);
    if (!hits.length) ul.appendChild(el("li", "muted small pg-result-none", "No model matches “" + q + "”."));
    hits.forEach(function (m) {
      const li = el("li");
      const b = el("button", "pg-result");
      b.type = "button";
      b.dataset.model = m.id;
      b.append(el("span", "pg-result-name", m.name), el("span", "muted small mono", m.id));
      if (m.free) b.append(el("span", "badge badge-ok", "free"));
      if (m.image) b.append(el("span", "badge", "vision"));
      b.addEventListener("click", function () { addModel(m.id); });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function addModel(id) {
    $("#pg-search").value = "";
    search();
    if (conv.models.indexOf(id) >= 0) return;
    if (conv.models.length >= MAX) { flash("Compare at most " + MAX + " models at once: remove one first."); return; }
    conv.models.push(id);
    conv.threads[id] = conv.threads[id] || [];
    drawAll();
  }

  function removeModel(id) {
    if (running[id]) running[id].abort();
    conv.models = conv.models.filter(function (m) { return m !== id; });
    delete conv.threads[id];
    persist();
    drawAll();
  }

  /* ---- columns ---------------------------------------------------------------------- */

  function drawAll() {
    drawSidebar();
    const grid = $("#pg-columns");
    grid.replaceChildren();
    Object.keys(columns).forEach(function (k) { delete columns[k]; });
    grid.dataset.count = String(conv.models.length);
    $("#pg-empty").hidden = conv.models.length > 0;
    conv.models.forEach(function (model) {
      const col = el("section", "pg-column card");
      col.dataset.model = model;
      const head = el("header", "pg-column-head");
      const title = el("div", "pg-column-title");
      title.append(el("strong", "", nameOf(model)), el("span", "muted small mono", model));
      const target = el("label", "pg-target small");
      const box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.className = "pg-target-box";
      target.append(box, document.createTextNode(" Reply"));
      target.title = "Send the next message to this model";
      const tools = el("div", "pg-column-tools");
      tools.append(
        // Short labels (named in full for screen readers): four columns share a laptop screen.
        button("■ Stop", "pg-stop", function () { if (running[model]) running[model].abort(); }, "Stop this answer"),
        button("↻", "pg-regenerate", function () { regenerate(model); }, "Regenerate the last answer"),
        button("</>", "pg-code", function () { showCode(model); }, "Copy this conversation as code"),
        button("×", "pg-remove", function () { removeModel(model); }, "Remove this model"));
      head.append(title, target, tools);
      const messages = el("div", "pg-messages");
      col.append(head, messages);
      grid.appendChild(col);
      columns[model] = col;
      drawThread(model);
    });
  }

  function drawThread(model) {
    const col = columns[model];
    if (!col) return;
    const box = $(".pg-messages", col);
    box.replaceChildren();
    conv.threads[model].forEach(function (msg) { box.appendChild(Render.message(msg)); });
    $(".pg-stop", col).disabled = !running[model];
    box.scrollTop = box.scrollHeight;
  }

  /* ---- sending ---------------------------------------------------------------------- */

  function targets() {
    return conv.models.filter(function (m) {
      const box = columns[m] && $(".pg-target-box", columns[m]);
      return box && box.checked && !running[m];
    });
  }

  function send() {
    if (!SIGNED_IN) { flash("Sign in to chat with models."); return; }
    const text = $("#pg-input").value.trim();
    if (!text) return;
    if (!conv.models.length) { flash("Pick a model first: search for one above."); return; }
    const chosen = targets();
    if (!chosen.length) { flash("Tick “Reply” on at least one idle column."); return; }
    conv.params = readParams();
    conv.system = $("#pg-system").value;
    if (conv.title === "New chat") conv.title = text.slice(0, 60);
    const image = attached;
    chosen.forEach(function (model) {
      conv.threads[model].push(image ? { role: "user", content: text, image: image } : { role: "user", content: text });
      ask(model);
    });
    $("#pg-input").value = "";
    clearImage();
    persist();
  }

  function regenerate(model) {
    if (running[model]) return;
    const thread = conv.threads[model];
    while (thread.length && thread[thread.length - 1].role === "assistant") thread.pop();
    if (!thread.length) return;
    conv.params = readParams();
    conv.system = $("#pg-system").value;
    ask(model);
  }

  async function ask(model) {
    const thread = conv.threads[model];
    const answer = { role: "assistant", content: "", reasoning: "", streaming: true };
    const last = thread[thread.length - 1];
    thread.push(answer);
    if (last && last.image && BY_ID[model] && !BY_ID[model].image) {
      delete answer.streaming;
      answer.error = { message: nameOf(model) + " does not accept images.",
        hint: "Remove the image and send again, or pick a model marked “vision”." };
      drawThread(model);
      persist();
      return;
    }
    const controller = new AbortController();
    running[model] = controller;
    drawThread(model);
    updateStopAll();
    let redraw = null;
    const schedule = function () {
      if (!redraw) redraw = window.requestAnimationFrame(function () { redraw = null; drawThread(model); });
    };
    const started = performance.now();
    try {
      const result = await Net.stream(requestBody(model, thread.slice(0, -1)), controller.signal, {
        onDelta: function (d) { answer.content += d.content; answer.reasoning += d.reasoning; schedule(); },
        onProvider: function (p) { answer.meta = Object.assign(answer.meta || {}, { provider: p }); },
      }, nameOf(model));
      answer.meta = meta(result, started);
    } catch (err) {
      if (err && err.name === "AbortError") answer.stopped = true;
      else if (err instanceof Net.PlaygroundError) answer.error = { message: err.message, hint: err.hint, link: err.link };
      else answer.error = { message: "The connection to the API broke.", hint: "Check your network and press Regenerate." };
    } finally {
      delete answer.streaming;
      delete running[model];
      if (!answer.reasoning) delete answer.reasoning;
      drawThread(model);
      updateStopAll();
      persist();
    }
  }

  function meta(result, started) {
    const usage = result.usage || {};
    const tokens = usage.completion_tokens;
    const thought = (usage.completion_tokens_details || {}).reasoning_tokens || 0;
    const generating = result.ttft !== null ? (result.latency - result.ttft) / 1000 : 0;
    return {
      provider: result.provider,
      tokens: usage.prompt_tokens !== undefined
        ? usage.prompt_tokens + " in · " + tokens + " out" + (thought ? " (" + thought + " reasoning)" : "") : null,
      cost: usage.cost, latency: result.latency === null ? performance.now() - started : result.latency,
      // An answer that arrived in one burst has no meaningful pace: leave throughput out.
      ttft: result.ttft, tps: tokens && generating > 0.05 ? tokens / generating : null,
    };
  }

  function stopAll() {
    Object.keys(running).forEach(function (m) { running[m].abort(); });
  }

  function updateStopAll() {
    $("#pg-stop-all").disabled = Object.keys(running).length === 0;
  }

  /* ---- image, code, import/export, messages ------------------------------------------ */

  function clearImage() {
    attached = null;
    $("#pg-image").value = "";
    $("#pg-attached").hidden = true;
  }

  function readImage(file) {
    if (!file) return;
    if (!/^image\//.test(file.type)) { flash("Attach an image file (PNG, JPEG, WebP or GIF)."); return; }
    if (file.size > 4 * 1024 * 1024) { flash("Images up to 4 MB, please."); return; }
    const reader = new FileReader();
    reader.onload = function () {
      attached = String(reader.result);
      $("#pg-attached-img").src = attached;
      $("#pg-attached").hidden = false;
    };
    reader.readAsDataURL(file);
  }

  function showCode(model) {
    const base = window.location.origin + "/api/v1";
    // The code asks the last question again: the thread up to the last user turn.
    const thread = conv.threads[model].slice();
    while (thread.length && thread[thread.length - 1].role === "assistant") thread.pop();
    const snippets = Code.snippets(base, requestBody(model, thread));
    const dialog = $("#pg-code-dialog");
    dialog.dataset.model = model;
    Object.keys(snippets).forEach(function (lang) { $("#pg-code-" + lang).textContent = snippets[lang]; });
    $("#pg-code-title").textContent = "Call " + nameOf(model) + " from your code";
    selectTab("curl");
    dialog.showModal();
  }

  function selectTab(lang) {
    document.querySelectorAll("#pg-code-dialog [role=tab]").forEach(function (tab) {
      const on = tab.dataset.tab === lang;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      $("#pg-code-" + tab.dataset.tab).hidden = !on;
    });
  }

  function exportAll() {
    const blob = new Blob([JSON.stringify(list, null, 2)], { type: "application/json" });
    const a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = "playground-conversations.json";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function importFile(file) {
    if (!file) return;
    file.text().then(function (text) {
      const incoming = Store.parseImport(text);
      const ids = incoming.map(function (c) { return c.id; });
      list = incoming.concat(list.filter(function (c) { return ids.indexOf(c.id) < 0; }));
      Store.save(list);
      open(incoming[0].id);
      flash("Imported " + incoming.length + " conversation" + (incoming.length > 1 ? "s" : "") + ".");
    }).catch(function (e) {
      flash("Could not import: " + (e && e.message ? e.message : "not a playground export") + ".");
    }).finally(function () { $("#pg-import").value = ""; });
  }

  function clearAll() {
    list = [];
    Store.save(list);
    newChat();
  }

  let flashTimer = null;
  function flash(text) {
    const box = $("#pg-flash");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  /* ---- wiring ----------------------------------------------------------------------- */

  $("#pg-search").addEventListener("input", search);
  $("#pg-search").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); const first = $("#pg-results .pg-result"); if (first) first.click(); }
  });
  $("#pg-composer").addEventListener("submit", function (e) { e.preventDefault(); send(); });
  $("#pg-input").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && Object.keys(running).length) { e.preventDefault(); stopAll(); }
  });
  $("#pg-stop-all").addEventListener("click", stopAll);
  $("#pg-new").addEventListener("click", newChat);
  $("#pg-export").addEventListener("click", exportAll);
  $("#pg-import").addEventListener("change", function () { importFile(this.files[0]); });
  $("#pg-clear").addEventListener("click", clearAll);
  $("#pg-image").addEventListener("change", function () { readImage(this.files[0]); });
  $("#pg-remove-image").addEventListener("click", clearImage);
  $("#pg-code-close").addEventListener("click", function () { $("#pg-code-dialog").close(); });
  document.querySelectorAll("#pg-code-dialog [role=tab]").forEach(function (tab) {
    tab.addEventListener("click", function () { selectTab(tab.dataset.tab); });
  });
  $("#pg-code-copy").addEventListener("click", function () {
    const shown = $("#pg-code-dialog pre:not([hidden])");
    navigator.clipboard.writeText(shown.textContent).then(function () { flash("Copied."); },
      function () { flash("Select the code and copy it by hand."); });
  });
  ["#pg-settings input", "#pg-settings select", "#pg-system"].forEach(function (sel) {
    document.querySelectorAll(sel).forEach(function (input) {
      input.addEventListener("change", function () { conv.params = readParams(); conv.system = $("#pg-system").value; });
    });
  });

  const initial = JSON.parse($("#pg-initial").textContent);
  const current = Store.current();
  if (initial.length || !current || !list.some(function (c) { return c.id === current; })) {
    conv = Store.blank(startModels(), readParams(), "");
    drawAll();
    // The models came from a link ("Chat" on a model page); a reload should find this chat.
    if (initial.length) window.history.replaceState(null, "", "/playground");
  } else {
    open(current);
  }
})();
