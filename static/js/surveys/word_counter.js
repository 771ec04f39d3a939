// Live word counter for textareas with data-word-min / data-word-max.
// Words are counted like the server counts them (crowd/text.py, word_count): runs of
// non-whitespace with at least one visible character (a letter, number, punctuation or symbol,
// not a blank glyph), so zero-width spaces and the like count for nothing here either.
// The server validates again; this only helps the worker see where they are.

const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;
const BLANK = /[\u115f\u1160\u3164\uffa0\u2800]/gu;

const countWords = (text) =>
  text
    .split(/\s+/u)
    .filter((token) => VISIBLE.test(token.replace(BLANK, ""))).length;

const describe = (count, min, max) => {
  const noun = count === 1 ? "word" : "words";
  if (count < min) return { text: `${count} ${noun} — at least ${min} needed`, state: "short" };
  if (count > max) return { text: `${count} ${noun} — please cut to ${max}`, state: "long" };
  return { text: `${count} ${noun} — good (${min}–${max})`, state: "ok" };
};

export function attachWordCounter(textarea) {
  const min = Number(textarea.dataset.wordMin);
  const max = Number(textarea.dataset.wordMax);
  const output = document.querySelector(`[data-word-count-for="${textarea.id}"]`);
  const status = document.querySelector(`[data-word-status-for="${textarea.id}"]`);
  if (!output || Number.isNaN(min) || Number.isNaN(max)) return;
  let lastState = "";
  const update = () => {
    const { text, state } = describe(countWords(textarea.value), min, max);
    output.textContent = text;
    output.dataset.state = state;
    // The live region speaks only when the state changes (too short / good / too long), so a
    // screen reader is not interrupted at every word; the count itself stays readable.
    if (status && lastState && state !== lastState) status.textContent = text;
    lastState = state;
  };
  textarea.addEventListener("input", update);
  update();
}

for (const textarea of document.querySelectorAll("textarea[data-word-min][data-word-max]")) {
  attachWordCounter(textarea);
}
