// A link to one message (a notification's: ?message=<id>#message-<id>) opens the
// conversation from that message on: bring it into view inside the timeline's own
// scroll box and mark it. Only on loading the page, so live updates never move it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const hash = window.location.hash;
    if (!hash.startsWith("#message-")) return;
    const target = document.getElementById(hash.slice(1));
    if (!target) return;
    target.classList.add("tl-target");
    target.scrollIntoView({ block: "center" });
  });
})();
