// The route list's "Print" button: the browser's print dialog, with the page's print
// stylesheet (planning.css: each day on a page of its own, no menus or buttons).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
