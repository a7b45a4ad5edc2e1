/* A small, safe markdown renderer for model answers.
 *
 * Model output is untrusted: it is only ever placed in the page as text nodes. The renderer
 * builds elements with document.createElement for the few constructs it knows (paragraphs,
 * headings, lists, quotes, fenced code, inline code, bold, italics, http(s) links) and never
 * parses HTML, so `<img onerror=...>` in an answer shows up literally and runs nothing. */
(function () {
  "use strict";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // `code`, **bold**, *italics* (not inside words: "2*3*4" stays as is), [text](url).
  // Underscores are left alone: identifiers such as __init__ must show as written.
  const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*(?!\s)([^*]+?)\*\*|(?<![\w*])\*(?![\s*])([^*\n]+?)(?<!\s)\*(?![\w*])|\[([^\]]+)\]\(([^)\s]+)\)/g;

  function safeHref(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function inline(parent, text) {
    let last = 0;
    INLINE.lastIndex = 0;
    let m;
    while ((m = INLINE.exec(text)) !== null) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1]) parent.appendChild(el("code", "", m[2]));
      else if (m[3]) parent.appendChild(el("strong", "", m[3]));
      else if (m[4]) parent.appendChild(el("em", "", m[4]));
      else {
        const href = safeHref(m[6]);
        if (href) {
          const a = el("a", "", m[5]);
          a.href = href;
          a.rel = "noopener noreferrer nofollow";
          a.target = "_blank";
          parent.appendChild(a);
        } else {
          parent.appendChild(document.createTextNode(m[0]));
        }
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function codeBlock(lang, lines) {
    const pre = el("pre", "md-code");
    if (lang) pre.dataset.lang = lang;
    const code = el("code", "", lines.join("\n"));
    pre.appendChild(code);
    return pre;
  }

  const BULLET = /^\s*[-*+]\s+(.*)$/;
  const NUMBER = /^\s*\d+[.)]\s+(.*)$/;

  /* Render `source` into a new <div class="md">; an unclosed fence (mid-stream) still shows as code. */
  function render(source) {
    const root = el("div", "md");
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    let para = [];
    const flush = function () {
      if (para.length) {
        const p = el("p");
        inline(p, para.join("\n"));
        root.appendChild(p);
        para = [];
      }
    };
    while (i < lines.length) {
      const line = lines[i];
      const fence = /^\s*(```|~~~)\s*([\w+#.-]*)/.exec(line);
      if (fence) {
        flush();
        const body = [];
        i += 1;
        while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
        i += 1;
        root.appendChild(codeBlock(fence[2], body));
        continue;
      }
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (heading) {
        flush();
        const h = el("h" + Math.min(heading[1].length + 2, 6), "md-h");
        inline(h, heading[2]);
        root.appendChild(h);
        i += 1;
        continue;
      }
      if (BULLET.test(line) || NUMBER.test(line)) {
        flush();
        const ordered = NUMBER.test(line) && !BULLET.test(line);
        const pattern = ordered ? NUMBER : BULLET;
        const list = el(ordered ? "ol" : "ul");
        while (i < lines.length && pattern.test(lines[i])) {
          const li = el("li");
          inline(li, pattern.exec(lines[i])[1]);
          list.appendChild(li);
          i += 1;
        }
        root.appendChild(list);
        continue;
      }
      if (/^\s*>/.test(line)) {
        flush();
        const quote = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) quote.push(lines[i++].replace(/^\s*>\s?/, ""));
        const bq = el("blockquote");
        inline(bq, quote.join("\n"));
        root.appendChild(bq);
        continue;
      }
      if (!line.trim()) flush();
      else para.push(line);
      i += 1;
    }
    flush();
    return root;
  }

  window.PlaygroundMarkdown = { render: render };
})();
