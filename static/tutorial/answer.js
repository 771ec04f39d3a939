// Progressive enhancement for a tutorial part: save the answer through the API and show the
// feedback in place (right or not, and the explanation), announced by the page's live region.
// Without JavaScript, or when anything unexpected happens, the plain form post does the same
// job on the server and renders the same feedback.

const form = document.querySelector("form[data-answer-url]");

function csrfToken() {
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

function paragraph(className, text) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  return p;
}

function markChoice(option) {
  const fieldset = form.querySelector("fieldset");
  fieldset.disabled = true;
  fieldset.classList.add("tut-answered");
  fieldset.removeAttribute("aria-describedby");
  form.querySelector("#option-error")?.remove();
  const item = form.querySelectorAll("li")[option];
  if (!item) return;
  item.classList.add("is-chosen");
  const tags = document.createElement("span");
  tags.className = "tut-tags";
  const tag = document.createElement("span");
  tag.className = "tut-tag";
  tag.textContent = "Your answer";
  tags.append(tag);
  item.querySelector("label span").append(" ", tags);
}

function showResult(result) {
  // The API says whether the answer was right and explains the concept; the right option
  // itself stays on the server until the training is over.
  markChoice(result.option);
  form.querySelector(".tut-note")?.remove();
  form.querySelector(".actions")?.remove();

  const region = document.getElementById("result");
  region.className = `tut-result ${result.correct ? "is-right" : "is-not-right"}`;
  let note = "Your first answer counts.";
  if (!result.correct) {
    note +=
      " The right option is not shown while you may still take an attempt; a new attempt asks a different question on this part.";
  }
  region.replaceChildren(
    paragraph("tut-verdict", result.correct ? "Right." : "Not right."),
    paragraph("tut-explanation", result.explanation),
    paragraph("muted tut-note", note),
  );
  region.focus();
  const count = document.getElementById("answered-count");
  if (count) count.textContent = String(Number(count.textContent) + 1);
}

if (form) {
  form.addEventListener("submit", async (event) => {
    const checked = form.querySelector("input[name=option]:checked");
    if (!checked) return; // let the server explain what is missing
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const item = form.querySelector("input[name=item]");
    try {
      const response = await fetch(form.dataset.answerUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ option: Number(checked.value), item: item ? item.value : undefined }),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      showResult(await response.json());
    } catch {
      form.submit(); // the server decides (already answered, attempt closed, old page, ...)
    }
  });
  // Marks the form as handled in place (module scripts run after parsing, so a very quick
  // click may still take the plain form post, which gives the same feedback).
  form.dataset.enhanced = "true";
}
