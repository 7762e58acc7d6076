// The "Select all" box of django-import-export's export page, attached here rather than by
// an inline onchange= (templates/admin/import_export/export.html), which the CSP refuses.
// onSelectToggleChange comes from import_export/export_selectable_fields.js.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const toggle of document.querySelectorAll("input.select-toggle")) {
    toggle.addEventListener("change", onSelectToggleChange);
  }
});
