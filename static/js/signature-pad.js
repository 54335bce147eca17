// The customer's signature in the "Completed?" dialog (templates/mobile/_signature.html):
// a finger (or mouse, or pen) draws on the canvas through pointer events. When the
// form is sent the drawing becomes a PNG in the form's file input, so the post is
// an ordinary multipart form: htmx sends it, or the offline queue keeps it
// (mobile-offline.js) as it keeps a photo. The server checks it again
// (app/orders/mobile/signatures.py).
(function () {
  "use strict";

  // Device pixels per CSS pixel, capped: sharp on a phone, small enough to upload.
  const MAX_SCALE = 2;
  const INK = "#10233f";
  const LINE_WIDTH = 2.5;
  const pads = new WeakMap();  // form -> pad

  function Pad(form) {
    const canvas = form.querySelector("[data-signature-canvas]");
    const context = canvas.getContext("2d");
    let strokes = [];  // each a list of [x, y] in CSS pixels
    let current = null;
    let scale = 1;

    function paint() {
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.clearRect(0, 0, canvas.width, canvas.height);
      context.setTransform(scale, 0, 0, scale, 0, 0);
      context.strokeStyle = INK;
      context.fillStyle = INK;
      context.lineWidth = LINE_WIDTH;
      context.lineCap = "round";
      context.lineJoin = "round";
      strokes.forEach(function (points) {
        if (points.length === 1) {
          context.beginPath();
          context.arc(points[0][0], points[0][1], LINE_WIDTH / 2, 0, 2 * Math.PI);
          context.fill();
          return;
        }
        context.beginPath();
        context.moveTo(points[0][0], points[0][1]);
        points.slice(1).forEach(function (point) { context.lineTo(point[0], point[1]); });
        context.stroke();
      });
    }

    // The canvas's pixels follow its size on the page (turning the phone resizes it).
    function fit() {
      const box = canvas.getBoundingClientRect();
      if (!box.width || !box.height) return;
      scale = Math.min(window.devicePixelRatio || 1, MAX_SCALE);
      const width = Math.round(box.width * scale);
      const height = Math.round(box.height * scale);
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      paint();
    }

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      fit();
      canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
      form.querySelector("[data-signature-empty]").hidden = true;
      paint();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) return;
      event.preventDefault();
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      (events.length ? events : [event]).forEach(function (each) { current.push(point(each)); });
      paint();
    });
    function end() { current = null; }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    if (window.ResizeObserver) new ResizeObserver(fit).observe(canvas);
    fit();

    this.hasInk = function () { return strokes.length > 0; };
    this.clear = function () {
      strokes = [];
      current = null;
      paint();
    };
    this.canvas = canvas;
  }

  function wire(root) {
    root.querySelectorAll("form[data-signature-pad]").forEach(function (form) {
      if (!pads.has(form)) pads.set(form, new Pad(form));
    });
  }

  function hideNotes(form) {
    form.querySelectorAll("[data-signature-empty], [data-signature-unsaved], [data-signature-queued]").forEach(function (note) {
      note.hidden = true;
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-signature-clear]");
    const form = button && button.closest("form[data-signature-pad]");
    if (!form || !pads.has(form)) return;
    pads.get(form).clear();
    hideNotes(form);
  });

  // The offline queue resets a form it kept: the drawing went with it (and the
  // technician, under the modal dialog, cannot see the queue's own notice).
  document.addEventListener("reset", function (event) {
    const pad = pads.get(event.target);
    if (pad) {
      pad.clear();
      hideNotes(event.target);
      event.target.querySelector("[data-signature-queued]").hidden = false;
    }
  });

  // Capture phase: before htmx's own submit handler on the form.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const pad = pads.get(form);
    if (pad) {
      sendSignature(event, form, pad);
      return;
    }
    // "Yes, completed" with a drawing not saved would lose the signature.
    const dialog = form.closest("dialog");
    const padForm = dialog && dialog.querySelector("form[data-signature-pad]");
    const unsaved = padForm && pads.get(padForm);
    if (unsaved && unsaved.hasInk()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      const note = padForm.querySelector("[data-signature-unsaved]");
      note.hidden = false;
      note.scrollIntoView({ block: "nearest" });
    }
  }, true);

  function sendSignature(event, form, pad) {
    const file = form.querySelector("[data-signature-file]");
    if (form.dataset.signatureReady === "1") {
      delete form.dataset.signatureReady;  // the PNG is in place: let it go
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    if (!pad.hasInk()) {
      form.querySelector("[data-signature-empty]").hidden = false;
      return;
    }
    const submitter = event.submitter;
    pad.canvas.toBlob(function (blob) {
      if (!blob) return;
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], "handtekening.png", { type: "image/png" }));
      file.files = transfer.files;
      hideNotes(form);
      form.dataset.signatureReady = "1";
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    }, "image/png");
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); });
})();
