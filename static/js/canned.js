// "/" in the reply box: a searchable list of templates and canned responses.
//
// Typing "/" at the start of the box or after a space or line break opens the
// list of templates usable on the selected channel (served by
// GET /threads/<id>/canned). What follows the slash filters it; arrows and
// Enter (or a click) choose, Esc closes. A canned response that can be filled in
// completely replaces the "/word" with its text; an approved WhatsApp template,
// or one still missing a value, is chosen in the template select instead, so
// the composer shows its variable inputs.
(function () {
  "use strict";

  const TOKEN = /(^|\s)\/([^\s/]*)$/;
  const cache = new Map(); // url -> Promise of items
  let menu = null;
  let state = null; // {box, start, query, items, shown, active}
  let dismissedAt = null; // the slash position the agent closed with Esc

  function listUrl(box) {
    const composer = box.closest("#composer");
    const block = composer && composer.querySelector("#template-fields");
    if (!block || !block.dataset.cannedUrl) return null;
    const channel = composer.querySelector("[name=channel_id]");
    const query = channel && channel.value ? "?channel_id=" + encodeURIComponent(channel.value) : "";
    return block.dataset.cannedUrl + query;
  }

  function load(url) {
    if (!cache.has(url)) {
      const request = fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : { data: [] }))
        .then((body) => body.data || [])
        .catch(() => {
          cache.delete(url);
          return [];
        });
      cache.set(url, request);
    }
    return cache.get(url);
  }

  function tokenAt(box) {
    const before = box.value.slice(0, box.selectionStart);
    const match = TOKEN.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, query: match[2] };
  }

  function matches(item, query) {
    const haystack = (item.name + " " + item.internal_name + " " + item.description).toLowerCase();
    return query.toLowerCase().split(/\s+/).every((word) => haystack.includes(word));
  }

  function close() {
    if (menu) menu.remove();
    if (state) {
      state.box.removeAttribute("aria-activedescendant");
      state.box.setAttribute("aria-expanded", "false");
    }
    menu = null;
    state = null;
  }

  function option(item, index) {
    const row = document.createElement("div");
    row.className = "canned-option";
    row.id = "canned-option-" + index;
    row.setAttribute("role", "option");
    row.dataset.index = String(index);
    const name = document.createElement("span");
    name.className = "canned-name";
    name.textContent = item.name;
    const internal = document.createElement("small");
    internal.className = "canned-internal";
    internal.textContent = item.internal_name;
    const head = document.createElement("span");
    head.className = "canned-head";
    head.append(name, internal);
    if (item.language) {
      // The customer is answered in another language than Dutch: each template says its own.
      const language = document.createElement("span");
      language.className = "canned-language";
      language.textContent = item.language;
      head.append(language);
    }
    if (item.kind === "approved" || item.text === null) {
      const tag = document.createElement("span");
      tag.className = "canned-tag";
      tag.textContent = item.kind === "approved" ? t("approved_template") : t("needs_fields", { fields: item.missing.join(", ") });
      head.append(tag);
    }
    row.append(head);
    if (item.description) {
      const description = document.createElement("span");
      description.className = "canned-description";
      description.textContent = item.description;
      row.append(description);
    }
    return row;
  }

  function render() {
    if (!menu) {
      menu = document.createElement("div");
      menu.className = "canned-menu";
      menu.id = "canned-menu";
      menu.setAttribute("role", "listbox");
      menu.setAttribute("aria-label", t("templates_menu"));
      menu.dataset.testid = "canned-menu";
      // Keep the focus in the reply box while clicking an option.
      menu.addEventListener("mousedown", (event) => event.preventDefault());
      menu.addEventListener("click", (event) => {
        const row = event.target.closest(".canned-option");
        if (row && state) choose(state.shown[Number(row.dataset.index)]);
      });
      state.box.insertAdjacentElement("afterend", menu);
      state.box.setAttribute("aria-controls", menu.id);
      state.box.setAttribute("aria-expanded", "true");
    }
    menu.style.top = state.box.offsetTop + state.box.offsetHeight + 4 + "px";
    menu.style.left = state.box.offsetLeft + "px";
    menu.style.width = state.box.offsetWidth + "px";
    menu.replaceChildren();
    if (!state.shown.length) {
      const empty = document.createElement("div");
      empty.className = "canned-empty";
      empty.textContent = state.items.length
        ? t("no_template_matches", { query: state.query })
        : t("no_templates");
      menu.append(empty);
      state.box.removeAttribute("aria-activedescendant");
      return;
    }
    state.shown.forEach((item, index) => {
      const row = option(item, index);
      row.setAttribute("aria-selected", index === state.active ? "true" : "false");
      menu.append(row);
    });
    state.box.setAttribute("aria-activedescendant", "canned-option-" + state.active);
    const current = menu.querySelector('[aria-selected="true"]');
    if (current) current.scrollIntoView({ block: "nearest" });
  }

  function refresh(box) {
    const token = tokenAt(box);
    const url = listUrl(box);
    if (!token || !url || token.start === dismissedAt) {
      if (!token) dismissedAt = null;
      close();
      return;
    }
    load(url).then((items) => {
      const now = tokenAt(box);
      if (!now || now.start !== token.start || document.activeElement !== box) return;
      const shown = items.filter((item) => matches(item, now.query));
      const keep = state && state.box === box && state.query === now.query ? state.active : 0;
      state = { box, start: now.start, query: now.query, items, shown, active: Math.min(keep, Math.max(shown.length - 1, 0)) };
      render();
    });
  }

  function removeToken(box, start) {
    const end = box.selectionStart;
    box.value = box.value.slice(0, start) + box.value.slice(end);
    box.setSelectionRange(start, start);
    return start;
  }

  function choose(item) {
    if (!item || !state) return;
    const box = state.box;
    const start = removeToken(box, state.start);
    close();
    if (item.kind === "text" && item.text !== null) {
      box.value = box.value.slice(0, start) + item.text + box.value.slice(start);
      const caret = start + item.text.length;
      box.setSelectionRange(caret, caret);
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.focus();
      return;
    }
    selectTemplate(box, item);
  }

  // Choosing in the select re-renders the composer with the template's inputs.
  function selectTemplate(box, item) {
    const composer = box.closest("#composer");
    const select = composer && composer.querySelector("[name=template_id]");
    if (!select) return;
    if (!select.querySelector('option[value="' + item.id + '"]')) {
      const category = composer.querySelector("[name=category]");
      if (category) category.value = ""; // the list is not narrowed by category
      select.append(new Option(item.name, item.id));
    }
    select.value = item.id;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("input", function (event) {
    if (event.target.id === "reply-content") refresh(event.target);
  });

  document.addEventListener("keydown", function (event) {
    if (!state || event.target !== state.box) return;
    if (event.key === "Escape") {
      dismissedAt = state.start;
      close();
      event.preventDefault();
      event.stopPropagation();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!state.shown.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      state.active = (state.active + step + state.shown.length) % state.shown.length;
      render();
      event.preventDefault();
    } else if (event.key === "Enter" || event.key === "Tab") {
      if (!state.shown.length || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      event.stopPropagation();
      choose(state.shown[state.active]);
    }
  }, true);

  document.addEventListener("focusout", function (event) {
    if (state && event.target === state.box) close();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (state && event.detail.target && event.detail.target.contains(state.box)) close();
  });
})();
