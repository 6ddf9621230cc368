// Progressive enhancement only: every form here also works as a plain POST without this file.
(function () {
  "use strict";

  var UNDO_SECONDS = 10;

  function csrfToken() {
    var field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // A message's Undo goes after about 10 s (without this script it stays on the next page).
  function expireUndo(form) {
    setTimeout(function () {
      if (form.isConnected) form.remove();
    }, UNDO_SECONDS * 1000);
  }
  document.querySelectorAll("form[data-undo]").forEach(expireUndo);

  // A POST form with these hidden fields (and the CSRF token).
  function postForm(action, fields) {
    fields.csrfmiddlewaretoken = csrfToken();
    var form = document.createElement("form");
    form.method = "post";
    form.action = action;
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    return form;
  }

  function announce(text, undoUrl) {
    var box = document.getElementById("messages");
    if (!box || !text) return;
    var line = document.createElement("div");
    line.className = "message message--success";
    var words = document.createElement("span");
    words.textContent = text;
    line.appendChild(words);
    if (undoUrl) {
      var form = postForm(undoUrl, { next: location.pathname + location.search });
      form.className = "undo";
      form.dataset.undo = "";
      var button = document.createElement("button");
      button.type = "submit";
      button.className = "link-button";
      button.textContent = "Undo";
      form.appendChild(button);
      line.append(" ", form);
      expireUndo(form);
    }
    box.replaceChildren(line);
  }

  // A delete button opens a confirmation page without this script; with it, the todo is deleted
  // at once and the message offers Undo instead.
  function deleteAtOnce(form) {
    var post = postForm(form.action, { next: form.elements.next.value });
    post.hidden = true;
    document.body.appendChild(post);
    post.submit();
  }

  // The HTML a fetch answers with; an error status or a redirect (to the login page) rejects.
  function fetchHTML(url, body) {
    return fetch(url, {
      method: body ? "POST" : "GET",
      body: body,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok || response.redirected) throw new Error(String(response.status));
      return response.text();
    });
  }

  // Signup and login carry the browser's time zone and locale, which become the user's.
  document.querySelectorAll("[data-detect-time-zone]").forEach(function (field) {
    try {
      field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      field.value = "";
    }
  });
  document.querySelectorAll("[data-detect-locale]").forEach(function (field) {
    field.value = navigator.language || "";
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.matches("[data-delete]") && csrfToken()) {
      event.preventDefault();
      deleteAtOnce(form);
      return;
    }
    if (!form.matches("[data-toggle]")) return;

    // Toggle done / not done in place: the server answers with the row's new HTML.
    event.preventDefault();
    var item = form.closest("li");
    var button = form.querySelector("button");
    button.disabled = true;
    fetchHTML(form.action, new FormData(form))
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.firstElementChild;
        item.replaceWith(fresh);
        fresh.querySelector(".check").focus();
        announce(fresh.dataset.announce, fresh.dataset.undoUrl);
      })
      .catch(function () {
        form.submit(); // fall back to the ordinary round trip
      });
  });

  // Quick add shows what it read from the line (the server's reading) before it is saved.
  document.querySelectorAll("form[data-quick-add]").forEach(function (form) {
    var field = form.elements.text;
    var shown = document.getElementById("quick-add-preview");
    var timer = null;
    var asked = "";
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = field.value;
        if (text === asked) return;
        asked = text;
        if (!text.trim()) return shown.replaceChildren();
        fetchHTML(form.dataset.quickAdd + "?text=" + encodeURIComponent(text))
          .then(function (html) {
            if (field.value === text) shown.innerHTML = html;
          })
          .catch(function () {
            shown.replaceChildren();
          });
      }, 150);
    });
  });

  // The staff pool dashboard redraws itself from the server every few seconds.
  var panel = document.getElementById("pool-panel");
  if (panel) {
    var every = Number(panel.dataset.refresh) || 2000;
    var refresh = function () {
      if (document.hidden) return setTimeout(refresh, every);
      fetchHTML(window.location.href)
        .then(function (html) {
          panel.innerHTML = html;
          panel.classList.remove("is-stale");
        })
        .catch(function () {
          panel.classList.add("is-stale");
        })
        .finally(function () {
          setTimeout(refresh, every);
        });
    };
    setTimeout(refresh, every);
  }
})();

// Drag and drop in a list's manual order. Dropped on the top or bottom of a todo, the dragged one
// goes before or after it (a subtask dropped beside a top-level todo leaves its parent); dropped on
// its middle, it becomes that todo's last subtask. A drop posts what the Up, Down, In and Out
// buttons post, to the same move (services.move_todo), then shows the order the server now holds
// (and its message). Keyboard users have those buttons.
// The list may be redrawn by a live update (below): it is looked up on each event.
(function () {
  "use strict";
  if (!document.getElementById("manual-list")) return;
  var dragged = null;
  var marked = null;

  function itemOf(node) {
    var list = document.getElementById("manual-list");
    var item = node.closest && node.closest(".manual-item");
    return item && list && list.contains(item) ? item : null;
  }
  function rowOf(item) {
    return item.querySelector(":scope > ul > li.todo");
  }
  function isSubtask(item) {
    return item.classList.contains("manual-item--subtask");
  }
  function hasSubtasks(item) {
    return !!item.querySelector(":scope > ol.subtasks > li");
  }
  function siblingsOf(item) {
    return Array.prototype.filter.call(item.parentNode.children, function (other) {
      return other !== dragged && other.matches(".manual-item");
    });
  }

  // Where a drop on `target` at this pointer puts the dragged todo: {parent, after}, or null.
  function placeFor(target, event) {
    if (!dragged || !target || target === dragged || dragged.contains(target)) return null;
    var box = rowOf(target).getBoundingClientRect();
    var at = (event.clientY - box.top) / Math.max(box.height, 1);
    var nests = !isSubtask(target) && !hasSubtasks(dragged);
    if (nests && at > 0.3 && at < 0.7) {
      var subtasks = Array.prototype.filter.call(
        target.querySelectorAll(":scope > ol.subtasks > li"),
        function (sub) { return sub !== dragged; }
      );
      var last = subtasks[subtasks.length - 1];
      return { zone: "into", parent: target.dataset.id, after: last ? last.dataset.id : "" };
    }
    if (isSubtask(target) && hasSubtasks(dragged)) return null; // subtasks are one level deep
    var parent = isSubtask(target) ? target.parentNode.dataset.parent : "";
    var siblings = siblingsOf(target);
    var before = siblings[siblings.indexOf(target) - 1];
    if (at >= 0.5) return { zone: "after", parent: parent, after: target.dataset.id };
    return { zone: "before", parent: parent, after: before ? before.dataset.id : "" };
  }

  function mark(target, zone) {
    if (marked) marked.classList.remove("drop-before", "drop-after", "drop-into");
    marked = target ? rowOf(target) : null;
    if (marked) marked.classList.add("drop-" + zone);
  }

  function markDraggable() {
    var list = document.getElementById("manual-list");
    if (!list) return;
    list.querySelectorAll(".manual-item").forEach(function (item) {
      item.draggable = true;
    });
  }
  markDraggable();
  document.addEventListener("todos:redrawn", markDraggable);
  document.addEventListener("dragstart", function (event) {
    dragged = itemOf(event.target);
    if (!dragged) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.id);
  });
  document.addEventListener("dragend", function () {
    mark(null);
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    var target = itemOf(event.target);
    var place = placeFor(target, event);
    if (!place) return mark(null);
    event.preventDefault();
    mark(target, place.zone);
  });
  document.addEventListener("drop", function (event) {
    var place = placeFor(itemOf(event.target), event);
    mark(null);
    if (!place) return;
    event.preventDefault();
    var form = dragged.querySelector(".move form");
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("after", place.after);
    if (place.parent) body.append("parent", place.parent);
    body.append("next", window.location.pathname + window.location.search);
    // Not following the redirect leaves the move's message for the reload to show.
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
    }).finally(function () {
      window.location.reload();
    });
  });
})();

// Keyboard: q to the add field, j/k from todo to todo, x done / not done, e edit the title in
// place (Enter saves, Escape cancels), / to the search field, ? shows them. None fires while
// typing in a field or with a modifier key held.
(function () {
  "use strict";
  var help = document.getElementById("shortcuts");
  if (!help) return;

  function typing(node) {
    return node && (node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName));
  }
  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("li.todo"), function (row) {
      return row.offsetParent !== null; // not folded away (Completed)
    });
  }
  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("li.todo") : null;
  }
  function focusRow(row) {
    if (!row) return;
    var title = row.querySelector(".todo__title");
    title.focus();
    title.scrollIntoView({ block: "nearest" });
  }
  function announce(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    var line = document.createElement("div");
    line.className = "message message--success";
    line.textContent = text;
    box.replaceChildren(line);
  }

  function editTitle(row) {
    var link = row.querySelector(".todo__title");
    if (!link || row.querySelector(".todo__title-edit")) return;
    var field = document.createElement("input");
    field.type = "text";
    field.className = "todo__title-edit";
    field.maxLength = 200;
    field.value = link.dataset.title;
    field.setAttribute("aria-label", "Title of “" + link.dataset.title + "”");
    link.hidden = true;
    link.after(field);
    field.focus();
    field.select();
    var done = false;
    function cancel() {
      if (done) return;
      done = true;
      field.remove();
      link.hidden = false;
      link.focus();
    }
    function save() {
      var body = new FormData();
      body.append("csrfmiddlewaretoken", document.querySelector("[name=csrfmiddlewaretoken]").value);
      body.append("title", field.value);
      body.append("next", location.pathname + location.search);
      field.disabled = true;
      // The row's title address is its toggle's, ending in title/ (todos/pages/urls.py).
      var url = row.querySelector(".todo__toggle").action.replace(/toggle\/$/, "title/");
      fetch(url, {
        method: "POST",
        body: body,
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.text().then(function (text) {
            if (!response.ok || response.redirected) throw new Error(text);
            return text;
          });
        })
        .then(function (html) {
          done = true;
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          var fresh = template.content.firstElementChild;
          row.replaceWith(fresh);
          focusRow(fresh);
          announce(fresh.dataset.announce);
        })
        .catch(function (error) {
          field.disabled = false;
          field.focus();
          field.setCustomValidity(error.message || "The title could not be saved.");
          field.reportValidity();
        });
    }
    field.addEventListener("input", function () {
      field.setCustomValidity("");
    });
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        save();
      } else if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      }
    });
    field.addEventListener("blur", function () {
      if (!field.disabled) cancel();
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || help.open) return;
    var row = current();
    var all;
    switch (event.key) {
      case "q":
        var add = document.getElementById("quick-add") || document.getElementById("id_title");
        if (!add) return;
        add.focus();
        break;
      case "j":
      case "k":
        all = rows();
        if (!all.length) return;
        var at = all.indexOf(row);
        var step = event.key === "j" ? 1 : -1;
        focusRow(at === -1 ? all[step === 1 ? 0 : all.length - 1] : all[at + step] || all[at]);
        break;
      case "x":
        if (!row) return;
        row.querySelector(".todo__toggle button").click();
        break;
      case "e":
        if (!row) return;
        editTitle(row);
        break;
      case "/":
        // The list pages' search box, where there is one.
        var search = document.querySelector("input[type=search], [data-search]");
        if (!search) return;
        search.focus();
        break;
      case "?":
        help.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();

// Batch edits: shift-click a todo's checkbox to check (or uncheck) every one from the last one
// clicked; Delete asks first (without this file the server shows a confirmation page).
(function () {
  var form = document.getElementById("batch-form");
  if (!form) return;
  var last = null;
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.todo__select")) return;
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input.todo__select"));
    if (event.shiftKey && last && boxes.indexOf(last) !== -1) {
      var from = boxes.indexOf(last), to = boxes.indexOf(box);
      boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (each) {
        each.checked = box.checked;
      });
    }
    last = box;
  });
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.dataset.batchConfirm) return;
    if (!window.confirm(button.dataset.batchConfirm)) {
      event.preventDefault();
      return;
    }
    var confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirmed";
    confirmed.value = "yes";
    form.appendChild(confirmed);
  });
})();

// Live updates: a page that names its event stream (data-events, GET /api/events) redraws its
// parts marked data-live from the server's page when a change made elsewhere (another tab, the
// API, the admin) arrives: only the rows that changed when the same todos are shown in the same
// order, else the whole part. What the user is doing there is kept: a field being typed in, a
// title being edited or a drag waits; checked boxes stay checked, open folds open, and the focus
// stays on the same control. The stream closes while the page is hidden (a user may hold ten
// streams) and resumes from its last event when the page shows again.
(function () {
  "use strict";
  var main = document.querySelector("[data-events]");
  if (!main || !window.EventSource || !window.DOMParser) return;
  var url = main.dataset.events;
  var source = null;
  var timer = null;
  var busy = false;
  var again = false;
  var FOCUSABLE = "a[href], button, input, select, textarea, summary";

  function connect() {
    if (source) return;
    source = new EventSource(url);
    ["todo", "todo_deleted", "list", "list_deleted"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        if (event.lastEventId) {
          url = url.replace(/last_event_id=[^&]*/, "last_event_id=" + encodeURIComponent(event.lastEventId));
        }
        schedule();
      });
    });
    source.addEventListener("error", function () {
      // The browser reconnects by itself after a `retry:`; a 429 or a 401 closes it for good.
      if (source && source.readyState === EventSource.CLOSED) source = null;
    });
  }
  function disconnect() {
    if (source) source.close();
    source = null;
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) disconnect();
    else connect();
  });

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(redraw, 100); // one redraw for a burst of events
  }

  function interrupting(part) {
    var active = document.activeElement;
    var typing =
      active && part.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) &&
      active.type !== "checkbox";
    return typing || !!part.querySelector(".todo__title-edit, .drop-before, .drop-after, .drop-into");
  }

  function redraw() {
    if (busy) {
      again = true;
      return;
    }
    var parts = Array.prototype.slice.call(document.querySelectorAll("[data-live][id]"));
    if (parts.some(interrupting)) {
      timer = setTimeout(redraw, 500);
      return;
    }
    busy = true;
    fetch(location.href, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 404) location.assign("/"); // this list was deleted elsewhere
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        parts.forEach(function (part) {
          var fresh = page.getElementById(part.id);
          if (fresh && part.isConnected) update(part, fresh);
        });
        document.dispatchEvent(new CustomEvent("todos:redrawn"));
      })
      .catch(function () {})
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  // A node's HTML less what differs from one rendering to the next (CSRF tokens) and what this
  // script adds (draggable).
  function plain(node) {
    return node.outerHTML
      .replace(/(name="csrfmiddlewaretoken" value=")[^"]*/g, "$1")
      .replace(/ draggable="true"/g, "");
  }
  function shape(node) {
    return Array.prototype.map.call(node.querySelectorAll("[id]"), function (each) {
      return each.id;
    }).join(" ");
  }

  function update(part, fresh) {
    if (plain(part) === plain(fresh)) return;
    var rows = part.querySelectorAll("li.todo[id]");
    if (rows.length && shape(part) === shape(fresh) && rest(part) === rest(fresh)) {
      // The same todos in the same places: only the rows that changed.
      Array.prototype.forEach.call(rows, function (row) {
        var twin = fresh.querySelector("#" + row.id);
        if (plain(row) !== plain(twin)) swap(row, document.importNode(twin, true));
      });
      return;
    }
    swap(part, document.importNode(fresh, true));
  }
  // What is left of a part without its rows (headings, counts, forms).
  function rest(node) {
    var copy = node.cloneNode(true);
    copy.querySelectorAll("li.todo[id]").forEach(function (row) {
      row.replaceChildren();
    });
    return plain(copy);
  }

  // Replace `old` with `fresh`, keeping checked boxes, open folds and the focus.
  function swap(old, fresh) {
    old.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      var selector = 'input[type=checkbox][name="' + box.name + '"][value="' + box.value + '"]';
      var twin = fresh.querySelector(selector);
      if (twin) twin.checked = true;
    });
    var folds = fresh.querySelectorAll("details");
    old.querySelectorAll("details").forEach(function (fold, index) {
      var twin = fold.id ? fresh.querySelector("#" + fold.id) : folds[index];
      if (twin) twin.open = fold.open;
    });
    var focus = focused(old);
    old.replaceWith(fresh);
    if (focus) {
      var holder = focus.holder === old.id ? fresh : fresh.querySelector("#" + focus.holder);
      var target = holder && holder.querySelectorAll(FOCUSABLE)[focus.index];
      if (target) target.focus();
    }
  }
  function focused(within) {
    var active = document.activeElement;
    if (!active || !within.contains(active)) return null;
    var holder = active.parentElement.closest("[id]");
    if (!holder || !within.contains(holder)) holder = within;
    var index = Array.prototype.indexOf.call(holder.querySelectorAll(FOCUSABLE), active);
    return index === -1 ? null : { holder: holder.id, index: index };
  }

  if (!document.hidden) connect();
})();
