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
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // No badge from the public validator: the page would send the specification's address
    // to a third party, and the CSP refuses its image anyway.
    validatorUrl: null,
    requestInterceptor: (request) => {
      request.headers["X-CSRFToken"] = root.dataset.csrfToken;
      return request;
    },
  });
})();
