// The agent's workspace: conversations open beside the list on a desktop, the
// keyboard works the list, and focus stays put when htmx swaps the thread header.
(function () {
  "use strict";

  const DESKTOP = window.matchMedia("(min-width: 1280px)");
  const PANE_LINK = 'a[hx-target="#workspace-detail"]';

  function openThreadId() {
    const page = document.getElementById("thread");
    return page ? page.dataset.threadId : null;
  }

  function rows() {
    // Only rows on screen: the thread page on a phone has the list hidden.
    return Array.from(document.querySelectorAll("#thread-list .thread-row[data-thread-id]")).filter(
      (row) => row.offsetParent !== null
    );
  }

  // The list after any swap: the open conversation is highlighted and, being
  // looked at, never shown unread; the keyboard's place is kept by thread id.
  let keyboardRowId = null;

  function syncList() {
    const open = openThreadId();
    rows().forEach(function (row) {
      const isOpen = row.dataset.threadId === open;
      row.classList.toggle("is-open", isOpen);
      if (isOpen) markSeen(row);
      row.classList.toggle("kb-focus", row.dataset.threadId === keyboardRowId);
    });
  }

  function markSeen(row) {
    row.classList.remove("unread");
    delete row.dataset.unread;
    const dot = row.querySelector(".unread-dot");
    if (dot) dot.remove();
  }

  // Narrow screens keep the one-column flow: a conversation link is followed as
  // a link. Stopping the click on its way down keeps htmx from taking it.
  document.addEventListener(
    "click",
    function (event) {
      const link = event.target.closest(PANE_LINK);
      if (!link) return;
      const plain = event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey;
      if (!DESKTOP.matches || !plain || !document.getElementById("workspace-detail")) {
        event.stopPropagation();
        return;
      }
      const row = link.closest(".thread-row");
      if (row) {
        keyboardRowId = row.dataset.threadId;
        markSeen(row);
      }
      // Enter on the link (or the list's own Enter) clicks with no pointer: detail 0.
      focusConversation = event.detail === 0;
    },
    true
  );

  // --- into the conversation -------------------------------------------------
  // Opened from the list by keyboard, the conversation takes focus (its heading);
  // else the next Tab walks the rest of the list first, two stops a row. The
  // "Skip to the conversation" link lands on the same heading.
  let focusConversation = false;

  function focusConversationHeading() {
    const heading = document.querySelector("#thread h1");
    if (!heading) return false;
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest(".skip-to-conversation")) return;
    if (focusConversationHeading()) event.preventDefault();
  });

  // --- focus through header swaps ------------------------------------------
  // An inline edit swaps #thread-header whole; put focus back on the control the
  // agent was using instead of letting it fall to the top of the page.
  let headerFocus = null;

  // A live refresh of the list likewise keeps the keyboard on its row.
  let listFocus = false;

  // A refresh of the same list (live, or after a bulk action) keeps where its rows were
  // scrolled to: they scroll by themselves (workspace.css), and the swap brings new ones.
  let listScroll = null;

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const active = document.activeElement;
    if (target && target.id === "thread-header" && active && target.contains(active) && active.name) {
      headerFocus = active.name;
    }
    if (target && target.id === "inbox" && active && active.matches("#thread-list .thread-link")) {
      listFocus = true;
    }
    if (target && target.id === "inbox") {
      const list = target.querySelector("#thread-list");
      const path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
      listScroll = list && path === target.dataset.refreshUrl ? list.scrollTop : null;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const list = event.detail.target && event.detail.target.id === "inbox" && document.getElementById("thread-list");
    if (list && listScroll !== null) list.scrollTop = listScroll;
    listScroll = null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (headerFocus) {
      const control = document.querySelector('#thread-header [name="' + headerFocus + '"]');
      headerFocus = null;
      if (control) control.focus({ preventScroll: true });
    }
    if (listFocus) {
      listFocus = false;
      const row = rows().find((r) => r.dataset.threadId === keyboardRowId);
      const link = row && row.querySelector(".thread-link");
      if (link) link.focus({ preventScroll: true });
    }
    const target = event.detail && event.detail.target;
    if (focusConversation && target && target.id === "workspace-detail") {
      focusConversation = false;
      focusConversationHeading();
    }
    syncList();
    nextHeaderEdit();
  });

  document.addEventListener("htmx:afterSwap", syncList);

  // Back and forward restore the workspace from htmx's history; the list may
  // have changed meanwhile (read marks, new messages), so ask for it again.
  document.addEventListener("htmx:historyRestore", function () {
    syncList();
    const inbox = document.getElementById("inbox");
    if (inbox && inbox.dataset.refreshUrl && window.htmx) {
      htmx.ajax("GET", inbox.dataset.refreshUrl, { target: "#inbox", swap: "outerHTML" });
    }
  });

  // --- keyboard ------------------------------------------------------------

  function isTyping(element) {
    if (!element) return false;
    const tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function moveInList(step) {
    const list = rows();
    if (!list.length) return false;
    let index = list.findIndex((row) => row.dataset.threadId === keyboardRowId);
    if (index < 0) index = list.findIndex((row) => row.classList.contains("is-open"));
    index = index < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, index + step));
    keyboardRowId = list[index].dataset.threadId;
    syncList();
    const link = list[index].querySelector(".thread-link");
    if (link) link.focus();
    return true;
  }

  function openKeyboardRow() {
    const row = rows().find((r) => r.dataset.threadId === keyboardRowId);
    const link = row && row.querySelector(".thread-link");
    if (!link) return false;
    link.click();
    return true;
  }

  function focusComposer(tabTarget, fieldId) {
    const tab = document.querySelector('.composer-tabs [data-show="' + tabTarget + '"]');
    if (!tab) return false;
    tab.click();
    const field = document.getElementById(fieldId);
    if (!field) return false;
    field.focus();
    return true;
  }

  // Change a header control as a person would, so htmx posts just that field.
  // While one edit is on its way, the next waits for the header it brings back
  // (it carries the new lock version; sent at once it would be refused as stale).
  const headerQueue = [];
  // Only an edit on its way counts: the header's own loads (the team suggestion's
  // slot) may swap themselves out of the page, and an event on a removed element
  // never reaches the document, so waiting on them would hold the key for ever.
  const EDIT_ON_ITS_WAY = "#thread-header [hx-post].htmx-request";

  function setHeaderControl(name, value) {
    const control = document.querySelector('#thread-header [name="' + name + '"]');
    if (!control || !Array.from(control.options).some((o) => o.value === value)) return false;
    if (document.querySelector(EDIT_ON_ITS_WAY)) {
      headerQueue.push([name, value]);
      return true;
    }
    if (control.value !== value) {
      control.value = value;
      control.dispatchEvent(new Event("change", { bubbles: true }));
    }
    return true;
  }

  function nextHeaderEdit() {
    if (headerQueue.length && !document.querySelector(EDIT_ON_ITS_WAY)) {
      setHeaderControl.apply(null, headerQueue.shift());
    }
  }

  function showShortcuts() {
    const dialog = document.getElementById("shortcuts");
    if (!dialog || dialog.open) return false;
    dialog.showModal();
    return true;
  }

  const KEYS = {
    "/": function () {
      const search = document.getElementById("inbox-q");
      if (!search) return false;
      search.focus();
      search.select();
      return true;
    },
    j: () => moveInList(1),
    ArrowDown: () => moveInList(1),
    k: () => moveInList(-1),
    ArrowUp: () => moveInList(-1),
    Enter: function () {
      // A focused link opens itself; only a row chosen otherwise needs the click.
      if (document.activeElement && document.activeElement.matches("a, button, summary")) return false;
      return openKeyboardRow();
    },
    r: () => focusComposer("reply-form", "reply-content"),
    n: () => focusComposer("note-form", "note-content"),
    e: () => setHeaderControl("status", "resolved"),
    a: () => setHeaderControl("assigned_to_user_id", document.body.dataset.userId || ""),
    "?": showShortcuts,
  };

  // Keys pressed inside the reply box (its emoji panel focuses a button, not a
  // field), inside an open popup (the bell's panel) or on the bulk bar's buttons
  // belong to that, not to the workspace: "e" there must not resolve the conversation.
  const OWN_KEYS = '#composer, [role="dialog"], [role="menu"], #notification-panel, dialog, .bulk-bar';

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
    if (event.target.closest && event.target.closest(OWN_KEYS)) return;
    // The focused timeline scrolls with the arrows (it is focusable for that).
    if (event.key.startsWith("Arrow") && event.target.matches(".timeline-scroll")) return;
    const action = KEYS[event.key];
    if (action && action()) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", syncList);
})();
