/*
 * The REST fallback (API.md's `/api` routes and their OpenAPI document), in rest/ by job:
 * routes.ts builds the route table from the router's procedure metadata, dispatch.ts answers
 * requests from it, openapi.ts documents it, docs.ts serves the Swagger UI page.
 */

export { createRestHandler, type RestEndpoint } from './rest/dispatch.js';
export { openApiDocument } from './rest/openapi.js';
export { ROUTES } from './rest/routes.js';
