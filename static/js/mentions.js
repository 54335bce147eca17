// The @mention picker of the internal-note box: typing "@" lists the
// colleagues who may open this conversation (GET /api/colleagues?thread_id=…),
// filtered by what follows the "@". Arrows move, Enter or Tab chooses, Esc
// closes, a click chooses; the choice is written as "@Full Name ", which the
// server reads as a mention (app/conversations/notifications/mentions.py) and notifies.
(function () {
  "use strict";

  const MAX_SHOWN = 8;
  const MAX_QUERY = 40;
  const lists = new Map(); // url -> Promise of colleagues

  let state = null; // {box, picker, start, matches, active}

  function colleagues(url) {
    if (!lists.has(url)) {
      lists.set(
        url,
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then((response) => (response.ok ? response.json() : { data: [] }))
          .then((payload) => payload.data || [])
          .catch(function () {
            lists.delete(url); // try again on the next "@"
            return [];
          })
      );
    }
    return lists.get(url);
  }

  // The "@query" just before the caret, if the caret is in one.
  function queryAt(box) {
    const caret = box.selectionStart;
    if (caret !== box.selectionEnd) return null;
    const before = box.value.slice(0, caret);
    const at = before.lastIndexOf("@");
    if (at < 0 || caret - at > MAX_QUERY + 1) return null;
    if (at > 0 && /[\w@]/.test(before[at - 1])) return null; // an e-mail address
    const query = before.slice(at + 1);
    if (/[\n@]/.test(query)) return null;
    return { start: at, query: query.toLowerCase() };
  }

  function matching(people, query) {
    return people.filter(function (person) {
      const name = person.name.toLowerCase();
      return name.startsWith(query) || name.split(/\s+/).some((word) => word.startsWith(query));
    });
  }

  function close() {
    if (!state) return;
    state.picker.hidden = true;
    state.picker.replaceChildren();
    state.box.setAttribute("aria-expanded", "false");
    state.box.removeAttribute("aria-activedescendant");
    state = null;
  }

  function highlight(index) {
    state.active = index;
    Array.from(state.picker.children).forEach(function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
      item.classList.toggle("active", i === index);
    });
    const current = state.picker.children[index];
    if (current && current.id) state.box.setAttribute("aria-activedescendant", current.id);
  }

  function show(box, picker, start, matches) {
    state = { box: box, picker: picker, start: start, matches: matches, active: 0 };
    picker.replaceChildren();
    if (!matches.length) {
      const empty = document.createElement("li");
      empty.className = "mention-empty muted small";
      empty.setAttribute("aria-disabled", "true");
      empty.textContent = picker.dataset.emptyText || "";
      picker.appendChild(empty);
    }
    matches.forEach(function (person, i) {
      const item = document.createElement("li");
      item.id = "mention-option-" + i;
      item.setAttribute("role", "option");
      item.dataset.index = String(i);
      const initials = document.createElement("span");
      initials.className = "avatar avatar-small";
      initials.setAttribute("aria-hidden", "true");
      initials.textContent = person.initials;
      item.append(initials, document.createTextNode(" " + person.name));
      picker.appendChild(item);
    });
    picker.hidden = false;
    // The note box sits at the foot of the page: bring the list into view.
    picker.scrollIntoView({ block: "nearest" });
    box.setAttribute("aria-expanded", "true");
    if (matches.length) highlight(0);
  }

  function choose(index) {
    const person = state && state.matches[index];
    if (!person) return;
    const box = state.box;
    const text = "@" + person.name + " ";
    box.setRangeText(text, state.start, box.selectionStart, "end");
    close();
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true })); // the draft saves it
  }

  function update(box) {
    const picker = box.form && box.form.querySelector(".mention-picker");
    const found = queryAt(box);
    if (!picker || !found) return close();
    colleagues(box.dataset.mentionUrl).then(function (people) {
      const now = queryAt(box);
      if (!now || now.start !== found.start || now.query !== found.query) return; // typed on
      const matches = matching(people, found.query).slice(0, MAX_SHOWN);
      // A space after a name that fits nobody: the sentence went on past the mention.
      if (!matches.length && /\s/.test(found.query)) return close();
      show(box, picker, found.start, matches);
    });
  }

  document.addEventListener("input", function (event) {
    const box = event.target.closest && event.target.closest("textarea[data-mention-url]");
    if (box) update(box);
  });

  document.addEventListener("click", function (event) {
    if (state && !state.picker.contains(event.target) && event.target !== state.box) close();
  });

  // Keep the focus in the note box while an option is clicked.
  document.addEventListener("mousedown", function (event) {
    const item = event.target.closest && event.target.closest(".mention-picker [role=option]");
    if (!item || !state) return;
    event.preventDefault();
    choose(Number(item.dataset.index));
  });

  // Captured before the composer's keys: Enter chooses instead of a new line, and
  // Esc closes the picker alone (defaultPrevented tells the bell and the workspace).
  document.addEventListener(
    "keydown",
    function (event) {
      if (!state || event.target !== state.box || event.isComposing) return;
      const count = state.matches.length;
      if (event.key === "ArrowDown" && count) {
        highlight((state.active + 1) % count);
      } else if (event.key === "ArrowUp" && count) {
        highlight((state.active - 1 + count) % count);
      } else if ((event.key === "Enter" || event.key === "Tab") && count && !event.ctrlKey && !event.metaKey) {
        choose(state.active);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    },
    true
  );

  // The composer is drawn again after a note is added: a stale picker goes with it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (state && event.detail.target && event.detail.target.contains(state.box)) close();
  });
})();
