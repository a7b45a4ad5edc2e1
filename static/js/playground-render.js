/* One message of a column as DOM: the user's text and image, or an answer with its folded
 * reasoning, its markdown (playground-markdown.js), a readable error and the figures under it. */
(function () {
  "use strict";

  const Md = window.PlaygroundMarkdown;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function money(cost) {
    if (cost === undefined || cost === null) return "";
    return cost === 0 ? "$0" : "$" + (cost < 0.01 ? cost.toPrecision(3) : cost.toFixed(4));
  }

  function drawMessage(msg) {
    const node = el("article", "pg-msg pg-" + msg.role);
    if (msg.role === "user") {
      if (msg.image) {
        const img = el("img", "pg-thumb");
        img.src = msg.image;
        img.alt = "Attached image";
        node.appendChild(img);
      }
      node.appendChild(el("div", "pg-user-text", msg.content));
      return node;
    }
    if (msg.reasoning) {
      const details = el("details", "pg-reasoning");
      // Redrawn on every streamed token: keep it open once the reader opened it.
      details.open = !!msg.showReasoning;
      details.addEventListener("toggle", function () { msg.showReasoning = details.open; });
      details.append(el("summary", "small muted", "Reasoning"), el("div", "pg-reasoning-text small", msg.reasoning));
      node.appendChild(details);
    }
    const body = Md.render(msg.content);
    body.classList.add("pg-body");
    node.appendChild(body);
    if (msg.streaming && !msg.content) node.appendChild(el("div", "pg-typing muted small", "Waiting for the first token…"));
    if (msg.error) {
      const box = el("div", "pg-error");
      box.setAttribute("role", "alert");
      box.append(el("strong", "", msg.error.message), el("div", "small", msg.error.hint || ""));
      if (msg.error.link && /^\/[^/]/.test(msg.error.link.href)) {
        const a = el("a", "small", msg.error.link.text);
        a.href = msg.error.link.href; // only our own pages: conversations can be imported
        box.appendChild(a);
      }
      node.appendChild(box);
    }
    if (msg.stopped) node.appendChild(el("div", "pg-stopped small muted", "Stopped."));
    if (msg.meta) node.appendChild(drawMeta(msg.meta));
    return node;
  }

  function drawMeta(meta) {
    const dl = el("dl", "pg-meta small");
    const add = function (label, value, cls) {
      if (value === null || value === undefined || value === "") return;
      const div = el("div", cls);
      div.append(el("dt", "", label), el("dd", "", String(value)));
      dl.appendChild(div);
    };
    add("Provider", meta.provider, "pg-meta-provider");
    add("Tokens", meta.tokens, "pg-meta-tokens");
    add("Cost", money(meta.cost), "pg-meta-cost");
    const seconds = function (ms) { return typeof ms === "number" ? (ms / 1000).toFixed(2) + " s" : null; };
    add("Latency", seconds(meta.latency), "pg-meta-latency");
    add("First token", seconds(meta.ttft), "pg-meta-ttft");
    add("Throughput", meta.tps ? meta.tps.toFixed(1) + " tok/s" : null, "pg-meta-tps");
    return dl;
  }

  window.PlaygroundRender = { message: drawMessage };
})();
