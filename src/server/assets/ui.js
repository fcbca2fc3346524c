// ipr web UI: a little progressive JavaScript. Every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Loading state: a form sent once shows that it is working.
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", () => {
      for (const b of form.querySelectorAll("button[type=submit]")) {
        b.disabled = true;
        b.dataset.label = b.textContent;
        b.textContent = "Working…";
      }
    });
  }
  // Escape closes an open dialog.
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      for (const d of document.querySelectorAll("details.modal[open]")) d.open = false;
    }
  });
  // Toasts go away by themselves.
  const toast = document.getElementById("toast");
  if (toast) setTimeout(() => toast.classList.add("hidden"), 6000);
});
