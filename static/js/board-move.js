// Moving a visit on the planning board to another technician or day, by mouse
// (SortableJS, static/vendor/sortablejs) or by keyboard, through one endpoint:
// POST /planning/orders/<key>/move (app/orders/planning/routes.py), which re-plans
// the visit as the plan dialog would. A move that is refused puts the card back
// where it was and says why in the board's live region; a move with only soft
// problems asks "plan anyway?" and sends again with override; a move made reloads
// the board (its flash says where the visit went) with focus on the moved card.
//
// Keyboard: a movable card is focusable; Space or Enter on it (or its "Move"
// button) picks it up, the arrow keys walk the cells (highlighted and read out:
// technician and day), Enter puts it there, Escape or Tab leaves it where it was.
(function () {
  "use strict";

  const FOCUS_KEY = "board-move-focus";

  const board = document.querySelector("table.board[data-week]");
  if (!board) return;
  const status = document.querySelector(".board-move-status");
  const ask = document.querySelector(".board-move-ask");
  const sortables = [];
  let picked = null; // {stop, card, home, target}: a card carried by keyboard
  let busy = null; // {stop, home, cell}: a move sent, or waiting for "plan anyway?"
  let dragging = null; // {stop, home, cancelled}: a card under the mouse

  function say(text, refused) {
    status.textContent = text;
    status.classList.toggle("is-refused", !!refused);
  }

  function cardOf(stop) {
    return stop.querySelector(".board-visit");
  }

  function orderOf(stop) {
    return stop.dataset.visitOrder;
  }

  function grid() {
    return Array.from(board.querySelectorAll("tbody tr")).map(function (row) {
      return Array.from(row.querySelectorAll("td.board-cell"));
    });
  }

  // Where a card was, so a refusal puts it back in its place.
  function placeOf(stop) {
    return { list: stop.parentElement, next: stop.nextElementSibling };
  }

  function putBack(stop, home) {
    home.list.insertBefore(stop, home.next && home.next.parentElement === home.list ? home.next : null);
  }

  // After the last visit of ``cell`` (the day's drive and its route link stay last).
  function putIn(cell, stop) {
    const stops = cell.querySelectorAll(".board-stop");
    (stops.length ? stops[stops.length - 1] : cell.querySelector(".cell-load")).after(stop);
  }

  function setBusy(value) {
    busy = value;
    sortables.forEach(function (sortable) {
      sortable.option("disabled", !!value);
    });
    board.classList.toggle("is-moving", !!value);
  }

  function homeCell(home) {
    return home.list.closest("td.board-cell");
  }

  function send(stop, home, cell, override) {
    setBusy({ stop: stop, home: home, cell: cell });
    stop.classList.add("is-saving");
    say(t("move_saving", { order: orderOf(stop), cell: cell.dataset.label }));
    const body = new URLSearchParams({
      technician_id: cell.dataset.technicianId,
      from_technician_id: homeCell(home).dataset.technicianId,
      day: cell.dataset.day,
      version: stop.dataset.version,
      week: board.dataset.week,
    });
    if (override) body.set("override", "1");
    const token = document.querySelector('meta[name="csrf-token"]').content;
    fetch(stop.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token },
      body: body,
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (answer) {
        if (answer.ok && answer.data.success) {
          sessionStorage.setItem(
            FOCUS_KEY,
            JSON.stringify({ order: orderOf(stop), technician: cell.dataset.technicianId, day: cell.dataset.day })
          );
          window.location.assign(answer.data.location);
          return;
        }
        const error = answer.data.error || {};
        if (error.may_override) {
          askAnyway(error.message);
        } else {
          refuse(error.message);
        }
      })
      .catch(function () {
        refuse(t("move_failed"));
      });
  }

  function refuse(reason) {
    const move = busy;
    if (!move) return;
    putBack(move.stop, move.home);
    move.stop.classList.remove("is-saving");
    ask.hidden = true;
    setBusy(null);
    say(t("move_refused", { order: orderOf(move.stop), reason: reason || "" }), true);
    cardOf(move.stop).focus();
  }

  function askAnyway(reason) {
    ask.hidden = false;
    say(t("move_ask", { reason: reason }), true);
    ask.querySelector("[data-move-override]").focus();
  }

  ask.addEventListener("click", function (event) {
    if (!busy) return;
    const move = busy;
    if (event.target.closest("[data-move-override]")) {
      ask.hidden = true;
      send(move.stop, move.home, move.cell, true);
    } else if (event.target.closest("[data-move-keep]")) {
      keep();
    }
  });

  function keep() {
    const move = busy;
    putBack(move.stop, move.home);
    move.stop.classList.remove("is-saving");
    ask.hidden = true;
    setBusy(null);
    say(t("move_stays", { order: orderOf(move.stop) }));
    cardOf(move.stop).focus();
  }

  // --- by keyboard -----------------------------------------------------------

  function target(cell) {
    if (picked.target) picked.target.classList.remove("is-target");
    picked.target = cell;
    cell.classList.add("is-target");
    cell.scrollIntoView({ block: "nearest", inline: "nearest" });
    const label = cell.dataset.label;
    say(cell === homeCell(picked.home) ? t("move_here", { cell: label }) : label);
  }

  function pick(stop) {
    if (busy || stop.classList.contains("is-fixed")) return;
    if (picked) drop(false);
    picked = { stop: stop, card: cardOf(stop), home: placeOf(stop), target: null };
    stop.classList.add("is-picked");
    picked.card.focus();
    const cell = homeCell(picked.home);
    picked.target = cell;
    cell.classList.add("is-target");
    say(t("move_picked", { order: orderOf(stop) }));
  }

  function drop(put) {
    const carried = picked;
    picked = null;
    carried.stop.classList.remove("is-picked");
    carried.target.classList.remove("is-target");
    if (!put || carried.target === homeCell(carried.home)) {
      say(t("move_stays", { order: orderOf(carried.stop) }));
      return;
    }
    putIn(carried.target, carried.stop);
    carried.card.focus(); // moving a focused element drops its focus
    send(carried.stop, carried.home, carried.target, false);
  }

  function step(key) {
    const cells = grid();
    let row = cells.findIndex(function (r) {
      return r.indexOf(picked.target) !== -1;
    });
    let col = cells[row].indexOf(picked.target);
    if (key === "ArrowUp") row = Math.max(row - 1, 0);
    if (key === "ArrowDown") row = Math.min(row + 1, cells.length - 1);
    if (key === "ArrowLeft") col = Math.max(col - 1, 0);
    if (key === "ArrowRight") col = Math.min(col + 1, cells[row].length - 1);
    target(cells[row][col]);
  }

  document.addEventListener("keydown", function (event) {
    if (dragging && event.key === "Escape") {
      // Let go anywhere now and the card stays where it was.
      dragging.cancelled = true;
      hover(null);
      return;
    }
    if (busy && ask.contains(document.activeElement) && event.key === "Escape") {
      event.preventDefault();
      keep();
      return;
    }
    if (picked) {
      if (event.key.startsWith("Arrow")) {
        event.preventDefault();
        step(event.key);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        drop(true);
      } else if (event.key === "Escape" || event.key === "Tab") {
        if (event.key === "Escape") event.preventDefault();
        drop(false);
      }
      return;
    }
    const card = event.target;
    if ((event.key === " " || event.key === "Enter") && card.matches && card.matches(".board-visit[tabindex]")) {
      event.preventDefault();
      pick(card.closest(".board-stop"));
    }
  });

  board.addEventListener("click", function (event) {
    const button = event.target.closest("[data-move-pick]");
    if (button) pick(button.closest(".board-stop"));
  });

  // --- by mouse (or a long press on a touch screen) ----------------------------
  // SortableJS picks the card up and carries a copy of it under the pointer; the
  // card itself stays in its cell, dimmed, until it is let go. No cell takes it while
  // it passes (a cell that grew would move the rows under the pointer): the cell under
  // the pointer when it is let go is where it goes.

  let hovered = null;

  function hover(cell) {
    if (hovered === cell) return;
    if (hovered) hovered.classList.remove("is-target");
    hovered = cell;
    if (cell) cell.classList.add("is-target");
  }

  function cellAt(event) {
    const point = event && event.changedTouches ? event.changedTouches[0] : event;
    if (!point || point.clientX === undefined) return null;
    const under = document.elementFromPoint(point.clientX, point.clientY);
    return under && board.contains(under) ? under.closest("td.board-cell") : null;
  }

  function follow(event) {
    if (dragging && !dragging.cancelled) hover(cellAt(event));
  }
  document.addEventListener("mousemove", follow);
  document.addEventListener("touchmove", follow, { passive: true });

  if (window.Sortable) {
    board.querySelectorAll("td.board-cell").forEach(function (cell) {
      sortables.push(
        window.Sortable.create(cell, {
          sort: false,
          draggable: ".board-stop",
          filter: ".is-fixed, [data-move-pick]",
          preventOnFilter: false,
          // Pointer events rather than the browser's own drag and drop: the same on
          // every browser, and a touch screen still scrolls the board until a long press.
          forceFallback: true,
          fallbackOnBody: true,
          fallbackTolerance: 4,
          delay: 250,
          delayOnTouchOnly: true,
          ghostClass: "is-ghost",
          chosenClass: "is-chosen",
          onStart: function (event) {
            if (picked) drop(false);
            dragging = { stop: event.item, home: placeOf(event.item) };
          },
          onEnd: function (event) {
            const move = dragging;
            dragging = null;
            hover(null);
            const cell = cellAt(event.originalEvent);
            if (!move || move.cancelled || !cell || cell === homeCell(move.home)) return;
            putIn(cell, move.stop);
            send(move.stop, move.home, cell, false);
          },
        })
      );
    });
  }

  // Back from a move: focus on the moved card, where it went.
  const moved = sessionStorage.getItem(FOCUS_KEY);
  if (moved) {
    sessionStorage.removeItem(FOCUS_KEY);
    try {
      const where = JSON.parse(moved);
      const cell = board.querySelector(
        'td.board-cell[data-technician-id="' + where.technician + '"][data-day="' + where.day + '"]'
      );
      const stop = cell && cell.querySelector('.board-stop[data-visit-order="' + where.order + '"]');
      if (stop) cardOf(stop).focus();
    } catch (error) {
      // A value from another version of this script: nothing to focus.
    }
  }
})();
