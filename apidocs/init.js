// Swagger UI over this service's own document (generated from the handlers' types, with the
// seeds' sample requests as examples). "Try it out" sends requests to this same origin, with the
// credentials entered under "Authorize"; nothing is loaded from anywhere else.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#ui",
  deepLinking: true,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
  validatorUrl: null,
});
