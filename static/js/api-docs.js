// Render /api/v1/openapi.json with the vendored Swagger UI. No validator badge:
// it would send the document to validator.swagger.io.
(function () {
  var node = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: node.dataset.specUrl,
    domNode: node,
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
  });
})();
