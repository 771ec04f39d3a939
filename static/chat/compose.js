// How the message in the box is being written (docs/protocol.md, "Composition"), sent with it
// as the frame's `compose` object. Counted from `input` events by their inputType, never from
// key codes: dictation, autocorrect and input-method composition (Chinese, Japanese) put text
// in without a key per character, and they are typing, not pasting.

const PASTED = new Set(["insertFromPaste", "insertFromPasteAsQuotation", "insertFromDrop", "insertFromYank"]);

function trackComposition(textEl, { onPaste } = {}) {
  let state = fresh();

  function fresh() {
    return { started: null, inputs: 0, typed: 0, pasted: 0, pastes: 0, deleted: 0, blurs: 0, back: null, length: textEl.value.length };
  }

  textEl.addEventListener("input", (event) => {
    const now = performance.now();
    const grown = textEl.value.length - state.length;
    state.length = textEl.value.length;
    if (state.started === null && textEl.value) state.started = now;
    const type = event.inputType || "insertText";
    if (PASTED.has(type)) {
      state.pastes += 1;
      state.pasted += Math.max(grown, 0);
    } else if (type.startsWith("delete")) {
      state.deleted += Math.max(-grown, 0);
    } else {
      // insertText, insertCompositionText, insertReplacementText, insertLineBreak, dictation
      state.inputs += 1;
      state.typed += Math.max(grown, 0);
      if (grown < 0) state.deleted += -grown;
    }
    if (!textEl.value) state.started = null;
  });

  // The box may refuse a long paste before it goes in (the run's paste policy).
  textEl.addEventListener("paste", (event) => {
    const text = event.clipboardData ? event.clipboardData.getData("text") : "";
    if (onPaste && onPaste(text) === false) event.preventDefault();
  });

  const away = () => { state.blurs += 1; state.back = null; };
  const back = () => { state.back = performance.now(); };
  document.addEventListener("visibilitychange", () => (document.hidden ? away() : back()));
  window.addEventListener("blur", away);
  window.addEventListener("focus", back);

  return {
    // The summary of the message about to be sent; the next one starts afresh.
    take() {
      const now = performance.now();
      const round = (ms) => Math.max(0, Math.round(ms));
      const summary = {
        ms: state.started === null ? 0 : round(now - state.started),
        inputs: state.inputs,
        typed: state.typed,
        pasted: state.pasted,
        pastes: state.pastes,
        deleted: state.deleted,
        blurs: state.blurs,
        since_focus_ms: state.back === null ? null : round(now - state.back),
      };
      state = fresh();
      state.length = 0;
      return summary;
    },
  };
}

// Loaded before room.js, as the page's other helpers are (no module imports: see room.html).
window.escCompose = { trackComposition };
