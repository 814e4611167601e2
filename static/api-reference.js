// Mounts the API reference on /admin/api. A file of its own because the
// page's Content-Security-Policy runs no inline script; the element is not
// called #api-reference, which the bundle would mount on its own with its
// default settings.
(function () {
  const target = document.getElementById("api-docs");
  if (!target || !globalThis.Scalar) return;
  // The words for browsers without JavaScript go: Scalar would take markup
  // already in its element for its own, to hydrate.
  target.replaceChildren();
  globalThis.Scalar.createApiReference(target, {
    url: target.dataset.document,
    // Everything from this app: no web fonts, telemetry, AI or tools from elsewhere.
    withDefaultFonts: false,
    telemetry: false,
    showDeveloperTools: "never",
    agent: { disabled: true },
    mcp: { disabled: true },
    hideClientButton: true,
    defaultOpenAllTags: true,
    hideDarkModeToggle: true,
    forceDarkModeState: "light",
    persistAuth: false,
  });
})();
