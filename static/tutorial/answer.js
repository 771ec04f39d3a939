// Progressive enhancement for a tutorial part: save the answer through the API and say so in
// place, announced by the page's live region. Without JavaScript, or when anything
// unexpected happens, the plain form post does the same job on the server.

const form = document.querySelector("form[data-answer-url]");

function csrfToken() {
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

function tag(text, extra) {
  const span = document.createElement("span");
  span.className = `tut-tag ${extra}`.trim();
  span.textContent = text;
  return span;
}

function showResult(result) {
  // The API says only which option was saved: the grade comes with the submitted attempt.
  const fieldset = form.querySelector("fieldset");
  fieldset.disabled = true;
  fieldset.classList.add("tut-answered");
  fieldset.removeAttribute("aria-describedby");
  form.querySelector("#option-error")?.remove();
  form.querySelectorAll("li").forEach((item, index) => {
    if (index !== result.option) return;
    item.classList.add("is-chosen");
    const tags = document.createElement("span");
    tags.className = "tut-tags";
    tags.append(tag("Your answer", ""));
    item.querySelector("label span").append(" ", tags);
  });
  form.querySelector(".tut-note")?.remove();
  form.querySelector(".actions")?.remove();

  const region = document.getElementById("result");
  region.className = "tut-result is-saved";
  const verdict = document.createElement("p");
  verdict.className = "tut-verdict";
  verdict.textContent = "Answer saved.";
  const next = document.createElement("p");
  next.textContent =
    "Your answers are graded when you submit the attempt; you then learn how many were right.";
  region.replaceChildren(verdict, next);
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
    try {
      const response = await fetch(form.dataset.answerUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ option: Number(checked.value) }),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      showResult(await response.json());
    } catch {
      form.submit(); // the server decides (already answered, attempt closed, ...)
    }
  });
}
