// Swagger UI for rudata: API v1 (udata's) and API v2, from the documents the server generates.
// An external script (not inline), so that the page's Content-Security-Policy can forbid inline scripts.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: "/api/1/swagger.json", name: "API v1" },
      { url: "/api/2/swagger.json", name: "API v2" },
    ],
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // No badge from validator.swagger.io: the page talks to this server only.
    validatorUrl: null,
  });
};
