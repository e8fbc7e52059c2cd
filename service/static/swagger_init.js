// Starts swagger-ui on /api/docs (templates/swagger_ui.html): the spec's URL and flask-smorest's
// OPENAPI_SWAGGER_UI_CONFIG come from the page as data, so that no inline script is needed.
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui-container");
  var config = { url: container.dataset.specUrl, dom_id: "#swagger-ui-container" };
  var extra = JSON.parse(document.getElementById("swagger-ui-config").textContent || "{}");
  Object.keys(extra).forEach(function (key) { config[key] = extra[key]; });
  window.ui = window.SwaggerUIBundle(config);
}());
