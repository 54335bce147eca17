// Interface texts for the scripts, in the reader's language. base.html renders
// them from app/ui.py SCRIPT_TEXTS into <script type="application/json"
// id="ui-texts">; t("key", {name: value}) fills gettext-style %(name)s
// placeholders. A key missing from the page is shown as itself, never thrown.
(function () {
  "use strict";

  let texts = null;

  function catalogue() {
    if (texts === null) {
      const block = document.getElementById("ui-texts");
      try {
        texts = block ? JSON.parse(block.textContent) : {};
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
