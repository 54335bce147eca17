// Files on a reply: a visible list of what is attached (each removable before
// sending), images pasted from the clipboard, and the files kept when the
// server sends the composer back with an error (a bad CC address should not
// make the agent attach everything again; a refused file is left out).
(function () {
  "use strict";

  const kept = new WeakMap(); // file input -> DataTransfer holding its files

  function filesOf(input) {
    if (!kept.has(input)) kept.set(input, new DataTransfer());
    return kept.get(input);
  }

  function setFiles(input, files) {
    const transfer = new DataTransfer();
    files.forEach((file) => transfer.items.add(file));
    kept.set(input, transfer);
    input.files = transfer.files;
    render(input);
  }

  function addFiles(input, files) {
    setFiles(input, Array.from(filesOf(input).files).concat(Array.from(files)));
  }

  function sizeLabel(bytes) {
    if (bytes >= 1024 * 1024) return formatNumber(bytes / (1024 * 1024), 1) + " MB";
    return formatNumber(Math.max(1, Math.round(bytes / 1024))) + " KB";
  }

  function render(input) {
    const row = input.closest("[data-attachments]");
    const list = row && row.querySelector(".attach-list");
    if (!list) return;
    list.replaceChildren();
    Array.from(input.files).forEach((file, index) => {
      const item = document.createElement("li");
      item.className = "attach-item";
      item.setAttribute("data-testid", "attached-file");
      if (/^image\/(png|jpeg)$/.test(file.type)) {
        // A small preview, so a pasted screenshot can be told from another.
        const thumb = document.createElement("img");
        thumb.className = "attach-thumb";
        thumb.alt = "";
        thumb.src = URL.createObjectURL(file);
        thumb.addEventListener("load", () => URL.revokeObjectURL(thumb.src), { once: true });
        item.append(thumb);
      }
      const name = document.createElement("span");
      name.textContent = file.name + " · " + sizeLabel(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link attach-remove";
      remove.textContent = t("remove");
      remove.setAttribute("aria-label", t("remove_file", { name: file.name }));
      remove.addEventListener("click", function () {
        const files = Array.from(input.files);
        files.splice(index, 1);
        setFiles(input, files);
      });
      item.append(name, " ", remove);
      list.append(item);
    });
  }

  // Choosing files again adds to the list instead of replacing it.
  document.addEventListener("change", function (event) {
    const input = event.target.closest("[data-attachment-input]");
    if (!input) return;
    const chosen = Array.from(input.files);
    input.files = filesOf(input).files; // what was attached before this choice
    addFiles(input, chosen);
  });

  // A screenshot pasted into the reply box becomes an attached PNG.
  document.addEventListener("paste", function (event) {
    const form = event.target.closest && event.target.closest("form");
    const input = form && form.querySelector("[data-attachment-input]");
    if (!input || !event.clipboardData) return;
    // Text copied from Word or a web page also carries a picture of itself:
    // that paste is the text, not a file.
    if (Array.from(event.clipboardData.types || []).includes("text/plain")) return;
    const pasted = Array.from(event.clipboardData.items || [])
      .filter((item) => item.kind === "file")
      .map((item) => item.getAsFile())
      .filter(Boolean);
    if (!pasted.length) return;
    event.preventDefault();
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "");
    addFiles(
      input,
      pasted.map((file, n) => {
        const extension = file.type === "image/jpeg" ? ".jpg" : file.type === "image/png" ? ".png" : "";
        const name = /^image\.\w+$/.test(file.name) || !file.name
          ? "pasted-" + stamp + (n ? "-" + n : "") + extension
          : file.name;
        return new File([file], name, { type: file.type });
      })
    );
  });

  // Keep the files across the composer's re-render after a refusal.
  let pending = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.detail.elt;
    const input = form && form.querySelector && form.querySelector("[data-attachment-input]");
    pending = input && event.detail.requestConfig.verb === "post" ? Array.from(input.files) : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    const files = pending;
    if (!files || !files.length || !event.detail.xhr || event.detail.xhr.status !== 422) return;
    pending = null;
    const input = document.querySelector("#reply-form [data-attachment-input]");
    if (!input) return;
    const error = document.querySelector("#reply-form [data-attachment-error]");
    const refused = error ? error.textContent : "";
    setFiles(input, files.filter((file) => !refused.startsWith(file.name + ":") && !refused.startsWith(file.name + " is")));
  });
})();
