// The chat room's panels, apart from the protocol (room.js):
// - the strategy picker. On a desktop its chips are always shown; on a phone (chat.css) only
//   a "Strategy: …" toggle is, which opens and closes the chips. room.js tells the picker two
//   things with events on its fieldset: "strategy-needed" (a message was to be sent without a
//   strategy: say so and move focus to the chips) and "strategy-reset" (the choice was cleared
//   after a send).
// - the help-seeker's situation, shown to the supporter: open unless they closed it, which is
//   remembered across reloads.
const picker = document.getElementById("strategy-picker");
const situation = document.getElementById("situation");

function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage switched off: the panel just starts open
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered, nothing else lost.
  }
}

function setUpSituation(details) {
  const key = details.dataset.rememberKey;
  if (remembered(key) === "closed") details.open = false;
  details.addEventListener("toggle", () => remember(key, details.open ? "open" : "closed"));
}

function setUpPicker(fieldset) {
  const toggle = document.getElementById("strategy-toggle");
  const current = document.getElementById("strategy-current");
  const needed = document.getElementById("strategy-needed");
  const textEl = document.getElementById("text");
  const radios = [...fieldset.querySelectorAll("input[name=strategy]")];

  const setOpen = (open) => {
    fieldset.dataset.open = String(open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  const showChoice = (name) => {
    current.textContent = name || "choose one (required)";
    current.dataset.empty = String(!name);
    if (name) needed.textContent = "";
  };

  toggle.addEventListener("click", () => setOpen(fieldset.dataset.open !== "true"));
  for (const radio of radios) radio.addEventListener("change", () => showChoice(radio.value));
  // Going back to the message box folds the chips away on a phone (the choice stays).
  textEl.addEventListener("focus", () => setOpen(false));
  fieldset.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || fieldset.dataset.open !== "true") return;
    setOpen(false);
    toggle.focus();
  });
  fieldset.addEventListener("strategy-reset", () => {
    showChoice(null);
    setOpen(false);
  });
  fieldset.addEventListener("strategy-needed", () => {
    needed.textContent = "Not sent yet: choose the strategy of this message first, then send it.";
    setOpen(true);
    radios[0]?.focus();
  });
}

if (situation) setUpSituation(situation);
if (picker) setUpPicker(picker);
