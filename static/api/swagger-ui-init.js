// Starts Swagger UI on /api/docs/. A static file rather than drf-spectacular's inline script,
// which the registry's Content Security Policy (script-src 'self') blocks. The settings come from
// data attributes of #swagger-ui (templates/drf_spectacular/swagger_ui.html), filled by the view.
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  const data = root.dataset;
  const parse = (text, fallback) => (text ? JSON.parse(text) : fallback);
  const swaggerSettings = parse(data.settings, {});
  const oauth2Config = parse(data.oauth2Config, {});
  const csrfHeaderName = data.csrfHeaderName;
  const csrfToken = data.csrfToken;

  // Writes made from "Try it out" with the session send the CSRF token, as Django requires.
  const requestInterceptor = (request) => {
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[csrfHeaderName] = csrfToken;
    }
    return request;
  };

  const ui = SwaggerUIBundle({
    url: data.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor,
    ...swaggerSettings,
  });
  if (Object.keys(oauth2Config).length > 0) {
    ui.initOAuth(oauth2Config);
  }
  window.ui = ui;
})();
