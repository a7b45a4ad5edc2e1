/* One streamed chat completion through the public API, with the page's short-lived key.
 * Reports deltas, the final usage and the timings the browser measured, and turns every
 * failure into a readable message with what to do next. */
(function () {
  "use strict";

  let cached = null; // {key, expires_at}

  function csrf() {
    const meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  async function sessionKey(force) {
    const now = Date.now() / 1000;
    if (!force && cached && cached.expires_at - now > 60) return cached.key;
    const response = await fetch("/playground/key", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" },
    });
    if (!response.ok) {
      throw new PlaygroundError("Your session has ended.", "Sign in again to keep chatting.", 401,
        { href: "/accounts/login/?next=/playground", text: "Sign in" });
    }
    cached = await response.json();
    return cached.key;
  }

  function PlaygroundError(message, hint, status, link) {
    this.message = message;
    this.hint = hint || "";
    this.status = status || 0;
    this.link = link || null; // {href, text}: where to fix it
  }

  function explain(status, body, modelName) {
    const err = (body && body.error) || {};
    const message = err.message || ("The request failed with status " + status + ".");
    const raw = err.metadata && err.metadata.raw ? " (" + String(err.metadata.raw).slice(0, 200) + ")" : "";
    switch (status) {
      case 402:
        return new PlaygroundError("Not enough credits: " + message,
          "Add credits to your account, lower Max tokens, or pick a free model (the “:free” variants).",
          status, { href: "/credits", text: "Add credits" });
      case 429:
        return new PlaygroundError("Rate limited: " + message,
          "Wait a few seconds and press Regenerate, or allow other providers.", status);
      case 401:
      case 403:
        return new PlaygroundError(message, "Sign in again, then press Regenerate.", status,
          { href: "/accounts/login/?next=/playground", text: "Sign in" });
      case 404:
        return new PlaygroundError(message,
          "No provider can serve " + modelName + " with these settings: loosen the provider preferences.", status);
      case 400:
        return new PlaygroundError(message, "Change the request (parameters, image, length) and send again.", status);
      case 503:
        return new PlaygroundError("Temporarily unavailable: " + message,
          "Press Regenerate in a moment, or allow fallbacks to other providers.", status);
      default:
        return new PlaygroundError("The provider failed: " + message + raw,
          "Press Regenerate, or turn on fallbacks to let another provider answer.", status);
    }
  }

  /* Stream `body` (stream forced on); handlers: onDelta({content, reasoning}), onProvider(name).
   * Resolves {usage, ttft, latency, provider, finish}; rejects with PlaygroundError or AbortError. */
  async function stream(body, signal, handlers, modelName) {
    const started = performance.now();
    let response;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const key = await sessionKey(attempt > 0);
      response = await fetch("/api/v1/chat/completions", {
        method: "POST", signal: signal,
        // The app attribution is the playground itself.
        referrer: window.location.origin + "/playground",
        headers: {
          "Authorization": "Bearer " + key, "Content-Type": "application/json",
          "X-OpenRouter-Title": "Playground", "X-Title": "Playground",
        },
        body: JSON.stringify(Object.assign({}, body, { stream: true })),
      });
      // An expired or revoked session key: mint a fresh one once and retry.
      if (response.status !== 401) break;
    }
    if (!response.ok) {
      let payload = null;
      try { payload = await response.json(); } catch (e) { /* not JSON */ }
      throw explain(response.status, payload, modelName);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const result = { usage: null, ttft: null, latency: null, provider: null, finish: null };
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame.split("\n").filter(function (l) { return l.startsWith("data:"); })
          .map(function (l) { return l.slice(5).trim(); }).join("");
        if (!data || data === "[DONE]") continue;
        let event;
        try { event = JSON.parse(data); } catch (e) { continue; }
        if (event.provider && !result.provider) {
          result.provider = event.provider;
          handlers.onProvider(event.provider);
        }
        if (event.usage) result.usage = event.usage;
        if (event.error) {
          const failure = explain(Number(event.error.code) || 502, event, modelName);
          failure.partial = true;
          throw failure;
        }
        const choice = (event.choices || [])[0];
        if (!choice) continue;
        if (choice.finish_reason) result.finish = choice.finish_reason;
        const delta = choice.delta || {};
        if (delta.content || delta.reasoning) {
          if (result.ttft === null) result.ttft = performance.now() - started;
          handlers.onDelta({ content: delta.content || "", reasoning: delta.reasoning || "" });
        }
      }
    }
    result.latency = performance.now() - started;
    return result;
  }

  window.PlaygroundStream = { stream: stream, PlaygroundError: PlaygroundError };
})();
