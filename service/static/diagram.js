// Draws the nomination's BPMN diagram with the bpmn-js viewer and marks the finished steps and the
// current one. The page works without it: the timeline says the same in words.
(function () {
  "use strict";
  var el = document.getElementById("diagram");
  if (!el || typeof window.BpmnJS !== "function") { return; }
  var done = JSON.parse(el.dataset.done || "[]");
  var current = JSON.parse(el.dataset.current || "[]");
  var viewer = new window.BpmnJS({ container: el });

  function badge(text, cls) {
    var span = document.createElement("span");
    span.className = "diagram-badge " + cls;
    span.textContent = text;
    return span;
  }

  fetch(el.dataset.src, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var overlays = viewer.get("overlays");
      var registry = viewer.get("elementRegistry");
      done.forEach(function (id) {
        if (!registry.get(id)) { return; }
        canvas.addMarker(id, "step-done");
        overlays.add(id, { position: { top: -10, right: 10 }, html: badge("✓", "done") });
      });
      current.forEach(function (id) {
        if (!registry.get(id)) { return; }
        canvas.addMarker(id, "step-current");
        overlays.add(id, { position: { bottom: -4, left: -4 }, html: badge(el.dataset.labelCurrent || "…", "current") });
      });
      canvas.zoom("fit-viewport", "auto");
      el.classList.add("ready");
    })
    .catch(function (err) {
      el.textContent = "";
      var p = document.createElement("p");
      p.className = "muted";
      p.textContent = "Không tải được sơ đồ (" + err.message + ").";
      el.appendChild(p);
    });
}());
