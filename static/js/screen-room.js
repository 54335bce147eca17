// Room on the agent's screen: folds that close on a phone, the customer
// panel folded to a rail on a desktop, the phone's customer view left through
// history (so the back gesture and the back link agree), and a reply box that
// shows what to fix after the server refused it. Layout itself: css/screen-room.css.
(function () {
  "use strict";

  const PHONE = window.matchMedia("(max-width: 759px)");
  const FOLD_KEY = "switchboard.customerFolded";

  // --- folds that close on a phone ------------------------------------------
  // Rendered open (so a page without JavaScript has them all); on a phone they
  // close, unless one holds an error or a template's fields to fill, or the
  // agent was working inside it (a template just chosen swaps the composer).
  const keepOpen = new Set();

  // Each fold names itself (data-fold-on-phone="…"): the same fold swapped in
  // again by htmx is a new element, so it is known by its name.
  function foldKey(details) {
    return details.dataset.foldOnPhone || details.className;
  }

  function foldForPhone(root) {
    if (!PHONE.matches) return;
    root.querySelectorAll("details[data-fold-on-phone]").forEach(function (details) {
      if (details.querySelector(".field-error, .template-variables") || keepOpen.has(foldKey(details))) return;
      details.open = false;
    });
    keepOpen.clear();
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const config = event.detail.requestConfig;
    [config && config.elt, document.activeElement].forEach(function (element) {
      const fold = element && element.closest && element.closest("details[data-fold-on-phone][open]");
      if (fold) keepOpen.add(foldKey(fold));
    });
  });

  // --- the customer panel on a desktop: a rail when folded --------------------
  function customerFolded() {
    try {
      return window.localStorage.getItem(FOLD_KEY) === "1";
    } catch (error) {
      return false;
    }
  }

  function applyCustomerFold() {
    const workspace = document.getElementById("workspace");
    if (!workspace) return;
    const folded = customerFolded();
    workspace.classList.toggle("customer-folded", folded);
    document.querySelectorAll("[data-customer-fold]").forEach(function (button) {
      button.setAttribute("aria-expanded", folded ? "false" : "true");
      button.textContent = folded ? button.dataset.labelShow : button.dataset.labelHide;
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-customer-fold]");
    if (!button) return;
    try {
      window.localStorage.setItem(FOLD_KEY, customerFolded() ? "0" : "1");
    } catch (error) {
      return;
    }
    applyCustomerFold();
  });

  // --- the thread header's "Details": as the agent left it ------------------------
  // Folded by default, so a conversation opens on its messages; an agent who keeps
  // it open finds it open again on every conversation and after a reload. Kept
  // per user in this browser. A header that holds an error is open regardless,
  // and so is one swapped in (an inline edit, a live refresh) while it was open.
  const DETAILS_KEY = "switchboard.threadDetailsOpen";
  let headerWasOpen = false;

  function detailsKey() {
    return DETAILS_KEY + ":" + (document.body.dataset.userId || "");
  }

  function detailsRemembered() {
    try {
      return window.localStorage.getItem(detailsKey()) === "1";
    } catch (error) {
      return false;
    }
  }

  function applyDetails(root) {
    const wasOpen = headerWasOpen;
    headerWasOpen = false;
    if (PHONE.matches) return;
    root.querySelectorAll("details[data-remember-open]").forEach(function (details) {
      const header = details.closest(".thread-header");
      if (detailsRemembered() || wasOpen || (header && header.querySelector(".field-error"))) {
        details.open = true;
      }
    });
  }

  document.addEventListener("click", function (event) {
    const summary = event.target.closest("details[data-remember-open] > summary");
    if (!summary || PHONE.matches) return;
    // The click opens or closes the fold after this handler: store what it will be.
    const opening = !summary.parentElement.open;
    try {
      window.localStorage.setItem(detailsKey(), opening ? "1" : "0");
    } catch (error) {
      // Private mode or storage full: the fold still works, it is just not kept.
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const fold = target && target.id === "thread-header" && target.querySelector("details[data-remember-open]");
    if (fold && fold.open) headerWasOpen = true;
  });

  // Open again right after the swap, before htmx settles: workspace.js then puts
  // focus back on the control the agent was using, which must be shown by then.
  document.addEventListener("htmx:afterSwap", function () {
    const header = document.getElementById("thread-header");
    if (header && headerWasOpen) applyDetails(header);
  });

  // --- the phone's customer view ---------------------------------------------
  // "Customer →" is a link to #customer-panel (a history entry the back gesture
  // leaves); the panel's own back link goes back in history when that is where
  // the agent came from, instead of adding an entry on top.
  let customerOpenedHere = false;

  document.addEventListener("click", function (event) {
    if (event.target.closest("a.to-customer")) {
      customerOpenedHere = true;
      return;
    }
    const back = event.target.closest("a[data-history-back]");
    if (back && customerOpenedHere && window.location.hash === "#customer-panel") {
      event.preventDefault();
      customerOpenedHere = false;
      window.history.back();
    }
  });

  window.addEventListener("hashchange", function (event) {
    if (window.location.hash !== "#customer-panel") customerOpenedHere = false;
    // Back from the customer panel to the conversation: the reply box and the latest
    // message, not the panel's scroll. Other anchors (the skip link) keep their place.
    const leftPanel = (event.oldURL || "").endsWith("#customer-panel");
    const thread = document.getElementById("thread");
    if (PHONE.matches && thread && leftPanel && window.location.hash !== "#customer-panel") {
      window.scrollTo(0, 0);
    }
  });

  // --- the reply box after a refusal ------------------------------------------
  // The server answers a refused reply with the composer, as typed, and the error
  // beside the field it names. Bring that field into view and give it focus.
  document.addEventListener("htmx:afterSwap", function (event) {
    const composer = event.detail.target;
    if (!composer || composer.id !== "composer") return;
    const error = composer.querySelector(".field-error");
    if (!error) return;
    const field = composer.querySelector('[aria-invalid="true"]') || composer.querySelector("#reply-content");
    error.scrollIntoView({ block: "nearest" });
    if (field && !field.hidden) field.focus({ preventScroll: true });
  });

  // --- a reply box that grows where CSS cannot (field-sizing) ----------------------
  const SIZES_ITSELF = window.CSS && CSS.supports && CSS.supports("field-sizing", "content");

  document.addEventListener("input", function (event) {
    if (SIZES_ITSELF || !event.target.matches("#composer textarea")) return;
    const box = event.target;
    box.style.height = "auto";
    box.style.height = box.scrollHeight + 2 + "px";
  });

  function settle(root) {
    foldForPhone(root);
    applyDetails(root);
    applyCustomerFold();
  }

  document.addEventListener("DOMContentLoaded", function () {
    settle(document);
  });
  document.addEventListener("htmx:load", function (event) {
    settle(event.detail.elt || document);
  });
})();
