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

  // An error answer carries its own message (errors/_error.html), e.g. 503 "busy, try again"; read as text only.
  function messageOf(xhr) {
    var type = xhr && xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") !== 0 || !xhr.responseText) { return null; }
    var box = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector(".error-page[data-error-message]");
    return box ? box.getAttribute("data-error-message") : null;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 401) { return; }  // HX-Redirect to the login page follows
    showError(messageOf(xhr) || document.body.dataset.errorMessage || "Error");
  });
  document.addEventListener("htmx:sendError", function () {
    showError(document.body.dataset.errorMessage || "Error");
  });
})();
