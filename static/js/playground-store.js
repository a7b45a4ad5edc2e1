/* Conversations live in this browser only (localStorage), as a list of plain objects:
 * {id, title, created, updated, models: [id], system, params: {...}, threads: {model: [message]}}.
 * A message is {role: "user", content, image?} or {role: "assistant", content, reasoning?,
 * meta?, error?, stopped?}. */
(function () {
  "use strict";

  const LIST = "playground:conversations";
  const CURRENT = "playground:current";

  function load() {
    try {
      const raw = JSON.parse(window.localStorage.getItem(LIST) || "[]");
      return Array.isArray(raw) ? raw.filter(valid) : [];
    } catch (e) {
      return [];
    }
  }

  function valid(c) {
    return c && typeof c === "object" && typeof c.id === "string" && Array.isArray(c.models) &&
      c.threads && typeof c.threads === "object";
  }

  function save(list) {
    try {
      window.localStorage.setItem(LIST, JSON.stringify(list));
      return true;
    } catch (e) {
      // Quota exceeded (large images): keep working in memory, the caller tells the user.
      return false;
    }
  }

  function blank(models, params, system) {
    const now = Date.now();
    const threads = {};
    models.forEach(function (m) { threads[m] = []; });
    return {
      id: "c" + now.toString(36) + Math.random().toString(36).slice(2, 8),
      title: "New chat", created: now, updated: now,
      models: models.slice(), system: system || "", params: Object.assign({}, params), threads: threads,
    };
  }

  /* Conversations from an exported file: accepts one conversation or a list; throws on junk. */
  function parseImport(text) {
    const data = JSON.parse(text);
    const list = (Array.isArray(data) ? data : [data]).filter(valid);
    if (!list.length) throw new Error("The file holds no playground conversations.");
    list.forEach(function (c) {
      c.title = String(c.title || "Imported chat").slice(0, 200);
      c.models = c.models.filter(function (m) { return typeof m === "string"; }).slice(0, 4);
      c.system = String(c.system || "");
      c.params = c.params && typeof c.params === "object" ? c.params : {};
      c.updated = Number(c.updated) || Date.now();
    });
    return list;
  }

  window.PlaygroundStore = {
    load: load,
    save: save,
    blank: blank,
    parseImport: parseImport,
    current: function () { return window.localStorage.getItem(CURRENT); },
    setCurrent: function (id) { window.localStorage.setItem(CURRENT, id || ""); },
  };
})();
