// The diagram editor: bpmn-js Modeler plus a small properties panel for what nomflow's diagrams carry
// (name, timer expression, gateway condition, a user task's form). Validation, saving and deploying
// all go through the admin API; the server's problems are marked on the offending elements.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("editor-config").textContent);
  var T = config.text;
  var SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  var TIMER_KINDS = ["timeDate", "timeDuration", "timeCycle"];
  if (typeof window.BpmnJS !== "function") { return; }

  var modeler = new window.BpmnJS({ container: "#canvas" });
  var canvas = modeler.get("canvas"), modeling = modeler.get("modeling"), moddle = modeler.get("moddle");
  var registry = modeler.get("elementRegistry"), overlays = modeler.get("overlays");
  var statusEl = document.getElementById("status"), problemsEl = document.getElementById("problems");
  var props = document.getElementById("props"), noteEl = document.getElementById("note");
  var deployBtn = document.getElementById("btn-deploy");
  var draft = config.draft;  // {id, revision} once saved
  var dirty = false, marked = [];

  function format(text) {
    var args = Array.prototype.slice.call(arguments, 1);
    return text.replace(/\{\}/g, function () { return String(args.shift()); });
  }
  function status(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? "error" : "flash";
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function send(method, url, body, headers) {
    var h = Object.assign({ "Accept": "application/json", "X-CSRFToken": config.csrf }, headers || {});
    return fetch(url, { method: method, credentials: "same-origin", headers: h, body: body })
      .then(function (response) {
        return response.json().then(function (json) { return { status: response.status, ok: response.ok, body: json }; });
      });
  }
  function xml() { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); }

  function focusOn(element) {
    canvas.zoom(1);
    var box = canvas.viewbox();
    canvas.viewbox({ x: element.x + element.width / 2 - box.width / 2, y: element.y + element.height / 2 - box.height / 2,
      width: box.width, height: box.height });
    modeler.get("selection").select(element);
  }

  // --- problems on elements --------------------------------------------------------------------------
  function clearProblems() {
    marked.forEach(function (id) { canvas.removeMarker(id, "has-problem"); });
    marked = [];
    overlays.remove({ type: "problem" });
    problemsEl.textContent = "";
    problemsEl.hidden = true;
  }
  function showProblems(errors) {
    clearProblems();
    errors.forEach(function (e) {
      var element = e.element_id && registry.get(e.element_id);
      var label = (e.element_id ? e.element_id + (e.element_name ? " «" + e.element_name + "»" : "") + ": " : "") +
        (e.line ? "(" + e.line + ") " : "") + e.message;
      var item = el("li", { text: label });
      if (element) {
        if (marked.indexOf(e.element_id) < 0) {
          canvas.addMarker(e.element_id, "has-problem");
          marked.push(e.element_id);
          overlays.add(e.element_id, "problem", { position: { top: -14, right: 14 },
            html: el("span", { "class": "problem-badge", title: e.message, text: "!" }) });
        }
        item.tabIndex = 0;
        item.className = "linked";
        item.addEventListener("click", function () { focusOn(element); });
      }
      problemsEl.appendChild(item);
    });
    problemsEl.hidden = !errors.length;
    var first = marked.length && registry.get(marked[0]);
    if (first) { focusOn(first); }  // the first faulty element, close enough to read
  }
  function report(result, okText) {
    if (result.ok) { clearProblems(); status(okText); return true; }
    if (result.status === 422 && result.body.errors && result.body.errors.length && result.body.errors[0].message) {
      showProblems(result.body.errors);
      status(T.invalid, true);
    } else {
      status((result.status === 409 ? T.stale + ": " : T.error + ": ") + (result.body.detail || result.body.title), true);
    }
    return false;
  }

  // --- actions ---------------------------------------------------------------------------------------
  function validate() {
    return xml().then(function (text) {
      return send("POST", config.validateUrl, text, { "Content-Type": "application/xml" });
    }).then(function (r) { return report(r, T.valid); });
  }
  function save() {
    return xml().then(function (text) {
      var note = encodeURIComponent(noteEl.value || "");
      var name = encodeURIComponent(config.processId + ".bpmn");
      if (draft) {
        return send("PUT", config.api + "/drafts/" + draft.id + "?note=" + note + "&filename=" + name, text,
          { "Content-Type": "application/xml", "If-Match": '"draft-' + draft.id + "-r" + draft.revision + '"' });
      }
      return send("POST", config.api + "/drafts?note=" + note + "&filename=" + name, text, {
        "Content-Type": "application/xml", "If-Match": '"' + config.processId + "-v" + config.openedVersion + '"' });
    }).then(function (r) {
      if (r.ok) {
        draft = { id: r.body.id, revision: r.body.revision };
        dirty = false;
        deployBtn.disabled = false;
        history.replaceState(null, "", location.pathname + "?draft=" + draft.id);
      }
      return report(r, r.ok ? format(T.saved, r.body.id, r.body.revision) : "");
    });
  }
  function deploy() {
    if (!draft) { return; }
    if (dirty) { status(T.unsaved, true); return; }
    if (!window.confirm(T.confirmDeploy)) { return; }
    send("POST", config.api + "/drafts/" + draft.id + "/deploy", JSON.stringify({ note: noteEl.value || null }), {
      "Content-Type": "application/json", "If-Match": '"draft-' + draft.id + "-r" + draft.revision + '"' })
      .then(function (r) {
        if (report(r, r.ok ? format(T.deployed, r.body.version) : "")) {
          deployBtn.disabled = true;
          statusEl.appendChild(document.createTextNode(" "));
          statusEl.appendChild(el("a", { href: config.listUrl, text: "←" }));
          draft = null;
        }
      });
  }
  function download() {
    xml().then(function (text) {
      var link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/xml" })),
        download: config.processId + ".bpmn" });
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  }

  document.getElementById("btn-validate").addEventListener("click", validate);
  document.getElementById("btn-save").addEventListener("click", save);
  deployBtn.addEventListener("click", deploy);
  document.getElementById("btn-download").addEventListener("click", download);
  document.getElementById("file").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    file.text().then(function (text) { return modeler.importXML(text); })
      .then(function () { dirty = true; clearProblems(); canvas.zoom("fit-viewport", "auto"); status(T.loaded); })
      .catch(function (err) { status(T.loadFailed + ": " + err.message, true); });
  });
  modeler.on("commandStack.changed", function () { dirty = true; });

  // --- properties panel ------------------------------------------------------------------------------
  function field(label, value, hint, apply) {
    var input = el("input", { type: "text" });
    input.value = value || "";
    input.addEventListener("change", function () { apply(input.value.trim()); });
    return el("label", { "class": "prop" }, [el("span", { text: label }), input,
      hint ? el("small", { "class": "muted", text: hint }) : null]);
  }
  function laneOf(bo) {
    var lanes = registry.filter(function (e) { return e.type === "bpmn:Lane"; });
    var lane = lanes.find(function (l) { return (l.businessObject.flowNodeRef || []).indexOf(bo) >= 0; });
    return lane ? lane.businessObject.name : "—";
  }
  function timerOf(bo) {
    var def = (bo.eventDefinitions || []).find(function (d) { return d.$type === "bpmn:TimerEventDefinition"; });
    if (!def) { return null; }
    var kind = TIMER_KINDS.find(function (k) { return def[k]; }) || "timeDate";
    return { def: def, kind: kind, expr: def[kind] };
  }
  function spiffProperties(bo) {
    var values = (bo.extensionElements && bo.extensionElements.values) || [];
    var holder = values.find(function (v) { return v.$type === "spiffworkflow:properties"; });
    return holder ? holder.$children || [] : null;
  }
  function setSpiffProperty(element, name, value) {
    var bo = element.businessObject;
    var children = spiffProperties(bo);
    if (!children) {
      var ext = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
      var holder = moddle.createAny("spiffworkflow:properties", SPIFF, { $children: [] });
      ext.values.push(holder);
      modeling.updateProperties(element, { extensionElements: ext });
      children = holder.$children;
    }
    var prop = children.find(function (c) { return c.name === name; });
    if (!prop) {
      prop = moddle.createAny("spiffworkflow:property", SPIFF, { name: name, value: value });
      children.push(prop);
    } else {
      prop.value = value;
    }
    dirty = true;
  }

  function removeSpiffProperty(element, name) {
    var children = spiffProperties(element.businessObject);
    var index = children ? children.findIndex(function (c) { return c.name === name; }) : -1;
    if (index >= 0) { children.splice(index, 1); dirty = true; }
  }
  // What the task or end event means to the service (config/contracts.toml): the nomination's status
  // while the task is open, or how the process ended. The service never reads an element's id.
  function stageSelect(element, stages) {
    var current = ((spiffProperties(element.businessObject) || []).find(function (p) { return p.name === "stage"; }) ||
      {}).value || "";
    var select = el("select", { id: "stage-select" }, [el("option", { value: "", text: "—" })].concat(
      stages.map(function (s) { return el("option", { value: s[0], text: s[0] + " — " + s[1] }); })));
    if (current && !stages.some(function (s) { return s[0] === current; })) {
      select.appendChild(el("option", { value: current, text: current + " (" + T.unknownStage + ")" }));
    }
    select.value = current;
    select.addEventListener("change", function () {
      if (select.value) { setSpiffProperty(element, "stage", select.value); }
      else { removeSpiffProperty(element, "stage"); }
    });
    return el("label", { "class": "prop" }, [el("span", { text: T.stage }), select,
      el("small", { "class": "muted", text: T.stageHint })]);
  }

  function renderProps(element) {
    props.textContent = "";
    if (!element) { return; }
    var bo = element.businessObject;
    props.appendChild(el("dl", {}, [el("dt", { text: T.id }), el("dd", {}, [el("code", { text: bo.id })]),
      el("dt", { text: T.type }), el("dd", { text: bo.$type.replace("bpmn:", "") })]));
    props.appendChild(field(T.name, bo.name, bo.$type === "bpmn:Lane" ? config.roles.join(" · ") : "", function (v) {
      modeling.updateLabel(element, v);
    }));
    if (bo.$instanceOf("bpmn:FlowNode")) {
      props.appendChild(el("p", { "class": "prop" }, [el("span", { text: T.lane + ": " }),
        el("strong", { text: laneOf(bo) }), el("br"), el("small", { "class": "muted", text: T.laneHint })]));
    }
    var timer = timerOf(bo);
    if (timer) {
      props.appendChild(field(T.timer + " (" + timer.kind + ")", timer.expr && timer.expr.body, T.timerHint, function (v) {
        if (timer.expr) { modeling.updateModdleProperties(element, timer.expr, { body: v }); }
        else {
          var props = {};
          props[timer.kind] = moddle.create("bpmn:FormalExpression", { body: v });
          modeling.updateModdleProperties(element, timer.def, props);
        }
      }));
      if (bo.$type === "bpmn:BoundaryEvent") {
        var box = el("input", { type: "checkbox" });
        box.checked = bo.cancelActivity !== false;
        box.addEventListener("change", function () { modeling.updateProperties(element, { cancelActivity: box.checked }); });
        props.appendChild(el("label", { "class": "prop inline" }, [box, el("span", { text: T.interrupting })]));
      }
    }
    if (bo.$type === "bpmn:SequenceFlow") {
      props.appendChild(field(T.condition, bo.conditionExpression && bo.conditionExpression.body, T.conditionHint,
        function (v) {
          modeling.updateProperties(element, { conditionExpression: v ?
            moddle.create("bpmn:FormalExpression", { body: v }) : undefined });
        }));
    }
    if (bo.$type === "bpmn:UserTask" || bo.$type === "bpmn:ManualTask" || bo.$type === "bpmn:EndEvent") {
      props.appendChild(stageSelect(element, bo.$type === "bpmn:EndEvent" ? config.stages.end : config.stages.task));
    }
    if (bo.$type === "bpmn:UserTask") {
      var current = {};
      (spiffProperties(bo) || []).forEach(function (p) { current[p.name] = p.value; });
      var list = el("datalist", { id: "form-names" }, config.forms.map(function (f) { return el("option", { value: f }); }));
      props.appendChild(list);
      var schema = field(T.form, current.formJsonSchemaFilename, "", function (v) {
        setSpiffProperty(element, "formJsonSchemaFilename", v);
      });
      schema.querySelector("input").setAttribute("list", "form-names");
      props.appendChild(schema);
      props.appendChild(field(T.uiForm, current.formUiSchemaFilename, "", function (v) {
        setSpiffProperty(element, "formUiSchemaFilename", v);
      }));
    }
  }
  modeler.on("selection.changed", function (event) { renderProps(event.newSelection[0]); });

  // Finding an element by id or name: the diagrams are large and boundary timers are small.
  var findEl = document.getElementById("find"), idList = document.getElementById("element-ids");
  function fillFindList() {
    idList.textContent = "";
    registry.filter(function (e) { return e.businessObject && e.businessObject.id && e.type !== "label"; })
      .forEach(function (e) {
        idList.appendChild(el("option", { value: e.businessObject.id, label: e.businessObject.name || "" }));
      });
  }
  findEl.addEventListener("change", function () {
    var wanted = findEl.value.trim();
    var element = registry.get(wanted) || registry.find(function (e) {
      return e.businessObject && e.businessObject.name === wanted;
    });
    if (!element) { return; }
    focusOn(element);
    var first = props.querySelector("input");
    if (first) { first.focus(); }
  });
  modeler.on("import.done", fillFindList);
  modeler.on("element.changed", function (event) {
    var selected = modeler.get("selection").get();
    if (selected.length === 1 && selected[0] === event.element && !props.contains(document.activeElement)) {
      renderProps(event.element);
    }
  });

  fetch(config.source, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (text) { return modeler.importXML(text); })
    .then(function () {
      canvas.zoom("fit-viewport", "auto");
      dirty = false;
      document.getElementById("canvas").classList.add("ready");
      status(T.loaded);
    })
    .catch(function (err) { status(T.loadFailed + ": " + err.message, true); });
}());
