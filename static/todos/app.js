// Progressive enhancement only: every form here also works as a plain POST without this file.
(function () {
  "use strict";

  function announce(text) {
    var box = document.getElementById("messages");
    if (!box || !text) return;
    var line = document.createElement("p");
    line.className = "message message--success";
    line.textContent = text;
    box.replaceChildren(line);
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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
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
        announce(fresh.dataset.announce);
      })
      .catch(function () {
        form.submit(); // fall back to the ordinary round trip
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

// Drag and drop in a list's manual order (siblings among siblings): a drop posts what the Up and
// Down buttons post, to the same move (services.move_todo), then shows the order the server
// now holds. Keyboard users have the buttons.
(function () {
  "use strict";
  var list = document.getElementById("manual-list");
  if (!list) return;
  var dragged = null;

  function moveForm(item) {
    return item.querySelector(".move form");
  }

  list.querySelectorAll(".manual-item").forEach(function (item) {
    item.draggable = true;
    item.addEventListener("dragstart", function (event) {
      event.stopPropagation();
      dragged = item;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.id);
    });
    item.addEventListener("dragover", function (event) {
      if (dragged && dragged !== item && dragged.parentNode === item.parentNode) {
        event.preventDefault();
      }
    });
    item.addEventListener("drop", function (event) {
      if (!dragged || dragged === item || dragged.parentNode !== item.parentNode) return;
      event.preventDefault();
      event.stopPropagation();
      var siblings = Array.prototype.slice.call(item.parentNode.children);
      var to = siblings.indexOf(item);
      var after;
      if (siblings.indexOf(dragged) < to) {
        after = item.dataset.id; // dragged down onto it: after it
      } else {
        var before = siblings[to - 1]; // dragged up onto it: before it
        after = before ? before.dataset.id : "";
      }
      var form = moveForm(dragged);
      var body = new FormData();
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      body.append("after", after);
      if (item.parentNode.dataset.parent) body.append("parent", item.parentNode.dataset.parent);
      body.append("next", window.location.pathname);
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin" }).then(
        function () {
          window.location.reload();
        }
      );
    });
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
