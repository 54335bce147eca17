// Interface texts for the scripts, in the reader's language. base.html renders
// them from app/platform/ui.py SCRIPT_TEXTS as JSON into <body data-ui-texts> (no inline
// script: the Content-Security-Policy allows none); t("key", {name: value}) fills
// gettext-style %(name)s placeholders. A key missing from the page is shown as
// itself, never thrown.
(function () {
  "use strict";

  let texts = null;

  function catalogue() {
    if (texts === null) {
      const raw = document.body && document.body.dataset.uiTexts;
      try {
        texts = raw ? JSON.parse(raw) : {};
      } catch (error) {
        texts = {};
      }
    }
    return texts;
  }

  window.t = function (key, params) {
    const text = Object.prototype.hasOwnProperty.call(catalogue(), key) ? catalogue()[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  };

  // Numbers as the page's language writes them ("1,5" in Dutch).
  window.formatNumber = function (value, decimals) {
    const lang = document.documentElement.lang || undefined;
    return Number(value).toLocaleString(lang, { maximumFractionDigits: decimals || 0 });
  };
})();
