// Start Swagger UI or ReDoc on /docs and /redoc from a file, not an inline script (a CSP forbids those).
(function () {
  var swagger = document.getElementById("swagger-ui");
  if (swagger && window.SwaggerUIBundle) {
    window.ui = SwaggerUIBundle({
      url: swagger.getAttribute("data-openapi-url"),
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset].filter(Boolean),
    });
  }
  var redoc = document.getElementById("redoc-container");
  if (redoc && window.Redoc) {
    // the CSP allows ReDoc's style elements by this request's nonce (web/headers.py)
    Redoc.init(redoc.getAttribute("data-openapi-url"), {nonce: redoc.getAttribute("data-nonce") || undefined}, redoc);
  }
})();
