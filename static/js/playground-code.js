/* The request a column sends, and "Copy as code": the same request as code people can run.
 * The key is always read from the OPENROUTER_API_KEY environment variable, never the page's
 * own short-lived key. */
(function () {
  "use strict";

  function py(value, indent) {
    const pad = "    ".repeat(indent + 1);
    const end = "    ".repeat(indent);
    if (value === null || value === undefined) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value === "number") return String(value);
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) {
      if (!value.length) return "[]";
      return "[\n" + value.map(function (v) { return pad + py(v, indent + 1); }).join(",\n") + ",\n" + end + "]";
    }
    const keys = Object.keys(value);
    if (!keys.length) return "{}";
    return "{\n" + keys.map(function (k) {
      return pad + JSON.stringify(k) + ": " + py(value[k], indent + 1);
    }).join(",\n") + ",\n" + end + "}";
  }

  // Parameters the openai SDKs take by name; anything else travels in extra_body.
  const SDK_PARAMS = ["temperature", "max_tokens", "top_p"];

  function curl(base, body) {
    // A quoted heredoc: the JSON goes through the shell untouched, whatever quotes it holds.
    return "curl " + base + "/chat/completions \\\n" +
      "  -H \"Authorization: Bearer $OPENROUTER_API_KEY\" \\\n" +
      "  -H \"Content-Type: application/json\" \\\n" +
      "  -d @- <<'JSON'\n" + JSON.stringify(body, null, 2) + "\nJSON\n";
  }

  function python(base, body) {
    const lines = [
      "import os",
      "",
      "from openai import OpenAI",
      "",
      "client = OpenAI(",
      "    base_url=" + JSON.stringify(base) + ",",
      "    api_key=os.environ[\"OPENROUTER_API_KEY\"],",
      ")",
      "",
      "completion = client.chat.completions.create(",
      "    model=" + JSON.stringify(body.model) + ",",
      "    messages=" + py(body.messages, 1) + ",",
    ];
    const extra = {};
    Object.keys(body).forEach(function (k) {
      if (k === "model" || k === "messages") return;
      if (SDK_PARAMS.indexOf(k) >= 0) lines.push("    " + k + "=" + py(body[k], 1) + ",");
      else extra[k] = body[k];
    });
    if (Object.keys(extra).length) lines.push("    extra_body=" + py(extra, 1) + ",");
    lines.push(")", "print(completion.choices[0].message.content)", "");
    return lines.join("\n");
  }

  function typescript(base, body) {
    // Plain fetch (Node 18+, Deno, Bun, browsers): no package to install, and the routing
    // options (provider, reasoning) travel as they are.
    return [
      "const response = await fetch(" + JSON.stringify(base + "/chat/completions") + ", {",
      "  method: \"POST\",",
      "  headers: {",
      "    Authorization: `Bearer ${process.env.OPENROUTER_API_KEY}`,",
      "    \"Content-Type\": \"application/json\",",
      "  },",
      "  body: JSON.stringify(" + JSON.stringify(body, null, 2).replace(/\n/g, "\n  ") + "),",
      "});",
      "const completion = await response.json();",
      "console.log(completion.choices[0].message.content);",
      "",
    ].join("\n");
  }

  function snippets(base, body) {
    return { curl: curl(base, body), python: python(base, body), typescript: typescript(base, body) };
  }

  /* The API request of one column: its thread, the system prompt and the parameters; `info`
   * is the model's entry of the page's model list (reasoning is sent only to models that reason). */
  function requestBody(conv, model, thread, info) {
    const p = conv.params || {};
    const messages = [];
    if (conv.system.trim()) messages.push({ role: "system", content: conv.system });
    thread.forEach(function (msg) {
      if (msg.role === "user") {
        messages.push({ role: "user", content: msg.image
          ? [{ type: "text", text: msg.content }, { type: "image_url", image_url: { url: msg.image } }]
          : msg.content });
      } else if (!msg.error && msg.content) {
        messages.push({ role: "assistant", content: msg.content });
      }
    });
    const body = { model: model, messages: messages };
    if (p.temperature !== "" && p.temperature !== undefined) body.temperature = Number(p.temperature);
    if (p.max_tokens) body.max_tokens = parseInt(p.max_tokens, 10);
    if (p.top_p !== "" && p.top_p !== undefined) body.top_p = Number(p.top_p);
    if (p.reasoning && info && info.reasoning) body.reasoning = { effort: p.reasoning };
    const provider = {};
    if (p.sort) provider.sort = p.sort;
    const order = String(p.order || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    if (order.length) provider.order = order;
    if (p.allow_fallbacks === false) provider.allow_fallbacks = false;
    if (Object.keys(provider).length) body.provider = provider;
    return body;
  }

  window.PlaygroundCode = { snippets: snippets, requestBody: requestBody };
})();
