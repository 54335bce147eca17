// Light, dark or the system's setting (the switch in the top bar).
// The choice is applied at once and kept in the "theme" cookie, which the server
// reads to render <html data-theme> (no inline script, no flash of the wrong
// theme), and in localStorage, which puts the cookie back if it was cleared.
(function () {
  "use strict";

  const KEY = "theme";
  const THEMES = ["system", "light", "dark"];
  const root = document.documentElement;

  function apply(theme) {
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;
    else delete root.dataset.theme; // the stylesheet's media query decides
  }

  function remember(theme) {
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = KEY + "=" + theme + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
    try {
      window.localStorage.setItem(KEY, theme);
    } catch (error) {
      // Private browsing may refuse storage; the cookie still holds the choice.
    }
  }

  function cookieTheme() {
    const pair = document.cookie.split("; ").find((part) => part.startsWith(KEY + "="));
    return pair ? pair.slice(KEY.length + 1) : null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    let stored = null;
    try {
      stored = window.localStorage.getItem(KEY);
    } catch (error) {
      stored = null;
    }
    if (!cookieTheme() && THEMES.includes(stored) && stored !== "system") {
      apply(stored);
      remember(stored);
    }
    const select = document.getElementById("theme-switch");
    if (!select) return;
    select.value = root.dataset.theme || "system";
    select.addEventListener("change", function () {
      apply(select.value);
      remember(select.value);
    });
  });
})();
