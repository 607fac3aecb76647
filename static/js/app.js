// Small progressive enhancements. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";

  function showError(message) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var div = document.createElement("div");
    div.className = "flash flash-error";
    div.setAttribute("role", "alert");
    div.textContent = message;
    box.appendChild(div);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 401) { return; }  // HX-Redirect to the login page follows
    showError(document.body.dataset.errorMessage || "Error");
  });
  document.addEventListener("htmx:sendError", function () {
    showError(document.body.dataset.errorMessage || "Error");
  });
})();
