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

// What a screen reader hears: the minutes as they pass, and where the page is going.
const statusEl = document.getElementById("waiting-status");
let minutesSaid = 0;

function say(text) {
  statusEl.textContent = text;
}

function tick() {
  const seconds = (Date.now() - startedAt) / 1000;
  waitedEl.textContent = format(seconds);
  const minutes = Math.floor(seconds / 60);
  if (minutes > minutesSaid) {
    minutesSaid = minutes;
    say(`You have waited ${minutes} minute${minutes === 1 ? "" : "s"}. Still looking for a partner.`);
  }
}

// An alert is spoken when its text changes: the same problem at every poll is said once.
function showError(text) {
  if (errorEl.hidden || errorEl.textContent !== text) errorEl.textContent = text;
  errorEl.hidden = false;
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
      showError(body.message || "Something went wrong.");
      return;
    }
    errorEl.hidden = true;
    startedAt = Date.now() - body.waited_s * 1000;
    if (body.state !== "waiting") {
      leaving = true;
      say(body.state === "matched" ? "A partner is ready. Opening the chat…" : "Moving on…");
      window.location.assign(body.next_url);
      return;
    }
  } catch (err) {
    // A dropped request is retried by the next poll; tell the worker only if it persists.
    showError("Connection problem — retrying…");
  }
  setTimeout(poll, POLL_MS);
}

tick();
setInterval(tick, 1000);
poll();
