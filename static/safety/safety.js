// The seeker's help panel and the supporter's guidance card (docs/safety.md, "In a live chat").
// room.js calls window.escSafety.showHelp / showGuidance when a `safety` frame arrives; the
// seeker can also open and close the help at any time from the link under the chat's title.

const help = document.getElementById("safety-help");
const guidance = document.getElementById("safety-guidance");
const toggle = document.getElementById("safety-help-toggle");

function setHelp(open, focus) {
  if (!help) return;
  help.hidden = !open;
  if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
  if (open && focus) help.focus({ preventScroll: false });
}

// Shown by a flag: visible at once, without taking the keyboard from someone typing.
function showHelp() {
  setHelp(true, false);
  help?.scrollIntoView({ block: "nearest" });
}

function showGuidance() {
  if (!guidance) return;
  guidance.hidden = false;
  guidance.scrollIntoView({ block: "nearest" });
}

toggle?.addEventListener("click", () => setHelp(help?.hidden ?? false, true));
document.getElementById("safety-help-close")?.addEventListener("click", () => {
  setHelp(false, false);
  toggle?.focus();
});

window.escSafety = { showHelp, showGuidance };
