// Waiting room: show how long the worker has waited and poll the match endpoint until the
// server says where to go (matched → chat room, released → status page).
const config = JSON.parse(document.getElementById("waiting-config").textContent);
const waitedEl = document.getElementById("waited");
const errorEl = document.getElementById("waiting-error");
const csrf = document.querySelector("#csrf-form input[name=csrfmiddlewaretoken]").value;
const POLL_MS = 2000;

// Server time of arrival minus the local clock, corrected by each poll's answer.
let startedAt = config.waitingSince ? Date.parse(config.waitingSince) : Date.now();
let leaving = false;

function format(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function tick() {
  waitedEl.textContent = format((Date.now() - startedAt) / 1000);
}

async function poll() {
  if (leaving) return;
  try {
    const response = await fetch(config.pollUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    const body = await response.json();
    if (!response.ok) {
      errorEl.textContent = body.message || "Something went wrong.";
      errorEl.hidden = false;
      return;
    }
    errorEl.hidden = true;
    startedAt = Date.now() - body.waited_s * 1000;
    if (body.state !== "waiting") {
      leaving = true;
      window.location.assign(body.next_url);
      return;
    }
  } catch (err) {
    // A dropped request is retried by the next poll; tell the worker only if it persists.
    errorEl.textContent = "Connection problem — retrying…";
    errorEl.hidden = false;
  }
  setTimeout(poll, POLL_MS);
}

tick();
setInterval(tick, 1000);
poll();
