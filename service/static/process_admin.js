// /admin/processes: element diff between versions, and the dry run + migration of running instances.
// Everything goes through the admin API with the session cookie and the CSRF token.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("admin-config").textContent);
  var T = config.text;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function call(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": config.csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) { throw new Error(json.detail || json.title || ("HTTP " + response.status)); }
        return json;
      });
    });
  }

  function localTime(iso) {
    return iso ? new Date(iso).toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" }) : "—";
  }

  // --- element diff --------------------------------------------------------------------------------
  document.querySelectorAll("[data-diff-from]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var section = link.closest("section.process");
      var out = section.querySelector(".diff-result");
      var url = config.api + "/" + link.dataset.process + "/diff?from=" + link.dataset.diffFrom + "&to=" + link.dataset.diffTo;
      call("GET", url).then(function (diff) {
        out.textContent = "";
        out.appendChild(el("h3", { text: "v" + diff.from + " → v" + diff.to }));
        var rows = [];
        diff.added.forEach(function (e) { rows.push([T.added, e, ""]); });
        diff.removed.forEach(function (e) { rows.push([T.removed, e, ""]); });
        diff.changed.forEach(function (e) {
          rows.push([T.changed, e, e.attributes.map(function (a) {
            return a + ": " + JSON.stringify(e.before[a]) + " → " + JSON.stringify(e.after[a]);
          }).join("; ")]);
        });
        if (!rows.length) { out.appendChild(el("p", { text: T.nodiff })); }
        else {
          out.appendChild(el("table", { "class": "diff" }, [el("tbody", {}, rows.map(function (r) {
            return el("tr", { "class": "diff-" + r[0] }, [
              el("td", { text: r[0] }), el("td", {}, [el("code", { text: r[1].id })]),
              el("td", { text: r[1].name + " (" + r[1].type + ")" }), el("td", { text: r[2] })]);
          }))]));
        }
        out.hidden = false;
      }).catch(function (err) { out.hidden = false; out.textContent = T.error + ": " + err.message; });
    });
  });

  // --- migration -----------------------------------------------------------------------------------
  document.querySelectorAll(".migration").forEach(function (box) {
    var processId = box.dataset.process, target = parseInt(box.dataset.target, 10);
    var planBox = box.querySelector(".plan");

    function render(results, after) {
      planBox.textContent = "";
      if (!results.length) { planBox.appendChild(el("p", { text: T.none })); return; }
      var table = el("table", { "class": "plan-table" }, [el("thead", {}, [el("tr", {}, [
        el("th", { text: "" }), el("th", { text: T.nomination }), el("th", { text: T.version }),
        el("th", { text: T.result }), el("th", { text: T.changes }), el("th", { text: T.due })])])]);
      var body = el("tbody");
      results.forEach(function (r) {
        var box = el("input", { type: "checkbox", value: r.instance_id, "aria-label": r.nomination_id || r.instance_id });
        box.checked = r.safe && !r.migrated;
        box.disabled = !r.safe || r.migrated;
        var verdict = r.migrated ? T.migrated : (r.safe ? T.safe : T.unsafe);
        var changes = r.changes.map(function (c) {
          return c.element_id + " (" + c.state + ", " + c.change + (c.attributes.length ? ": " + c.attributes.join(", ") : "") + ")";
        }).join("; ");
        var due = r.open_tasks.map(function (t) {
          return t.name + ": " + localTime(t.due_before) + " → " + localTime(t.due_after);
        }).join("; ");
        body.appendChild(el("tr", { "class": r.migrated ? "migrated" : (r.safe ? "safe" : "unsafe"), "data-instance": r.instance_id }, [
          el("td", {}, [box]),
          el("td", { text: r.nomination_id || r.batch_id || r.instance_id }),
          el("td", { text: "v" + r.from_version + " → v" + r.to_version }),
          el("td", {}, [el("strong", { text: verdict }), el("div", { "class": "reasons", text: r.reasons.join(" ") })]),
          el("td", { text: changes }),
          el("td", { "class": "due", text: due })]));
      });
      table.appendChild(body);
      planBox.appendChild(table);
      if (after) { return; }
      var go = el("button", { type: "button", "class": "migrate", text: T.migrate });
      go.addEventListener("click", function () {
        var ids = Array.prototype.map.call(planBox.querySelectorAll("input:checked"), function (i) { return i.value; });
        if (!ids.length) { return; }
        go.disabled = true;
        call("POST", config.api + "/" + processId + "/migrations", { to_version: target, instance_ids: ids })
          .then(function (done) { render(done, true); })
          .catch(function (err) { go.disabled = false; planBox.appendChild(el("p", { "class": "error", text: err.message })); });
      });
      planBox.appendChild(go);
    }

    box.querySelector(".preview").addEventListener("click", function () {
      planBox.textContent = "…";
      call("POST", config.api + "/" + processId + "/migrations/preview", { to_version: target })
        .then(function (results) { render(results, false); })
        .catch(function (err) { planBox.textContent = T.error + ": " + err.message; });
    });
  });
}());
