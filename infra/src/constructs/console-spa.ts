/**
 * The console's client-side routes on the default behaviour only, as a CloudFront Function (viewer request): a path
 * whose last segment has no file extension is a console route, so it gets index.html (the app renders it, or its
 * own "not found"). Files keep their real answer, a missing one its 403/404. The API behaviours (/api/*, /mcp,
 * /ws, ...) never run this, so an agent always gets the server's own status and JSON error: no distribution-wide
 * error page rewrites a 404 into a 200.
 *
 * CloudFront Functions run their own JavaScript runtime (cloudfront-js-2.0); the tests evaluate this same source.
 */
export const SPA_ROUTES_FUNCTION = `function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
`;
