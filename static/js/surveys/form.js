// After a refused submission, move focus to the error summary so keyboard and screen-reader
// users hear what to fix; its links jump to each question.
const summary = document.getElementById("error-summary");
if (summary) {
  summary.focus();
  for (const link of summary.querySelectorAll("a[href^='#']")) {
    link.addEventListener("click", (event) => {
      const group = document.getElementById(link.getAttribute("href").slice(1));
      const input = group && group.querySelector("input, textarea, select");
      if (input) {
        event.preventDefault();
        group.scrollIntoView({ block: "center" });
        input.focus();
      }
    });
  }
}
