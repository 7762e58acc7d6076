// Swagger UI for the sign-in API (allauth's headless API) at /_allauth/openapi.html.
// A script file rather than an inline script, so the page works under a CSP without
// 'unsafe-inline'; the page gives the specification's URL and the CSRF token as data-
// attributes of #swagger-ui.
"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specificationUrl,
    dom_id: "#swagger-ui",
    // The base layout, as on the REST API's page: the standalone layout's top bar adds an
    // inline <style> (its logo), which the CSP refuses, and a box to load any other URL.
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: (request) => {
      request.headers["X-CSRFToken"] = root.dataset.csrfToken;
      return request;
    },
  });
})();
