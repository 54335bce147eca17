// The order desk (templates/orders/desk.html): "select all" ticks the clean orders
// on the page for bulk approval, and the button says how many are ticked. The
// rows' boxes belong to #desk-approve through their form attribute, so rows paged
// in later ("More orders") join the same form.
(function () {
  "use strict";

  function picks() {
    return Array.from(document.querySelectorAll(".desk-pick"));
  }

  function update() {
    const button = document.querySelector("[data-testid='desk-approve-button']");
    if (!button) return;
    const ticked = picks().filter((box) => box.checked).length;
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = ticked ? button.dataset.label + " (" + ticked + ")" : button.dataset.label;
    button.disabled = ticked === 0;
    const all = document.querySelector(".desk-pick-all");
    if (all) all.checked = ticked > 0 && ticked === picks().length;
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!target.classList) return;
    if (target.classList.contains("desk-pick-all")) {
      picks().forEach((box) => (box.checked = target.checked));
    }
    if (target.classList.contains("desk-pick-all") || target.classList.contains("desk-pick")) update();
  });
  document.addEventListener("htmx:afterSwap", update);
  document.addEventListener("DOMContentLoaded", update);
})();
