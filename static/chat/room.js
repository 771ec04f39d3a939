// The chat room: a websocket client of the chat protocol (docs/protocol.md).
// Every message is rendered with textContent (never innerHTML), unacknowledged messages are
// kept (also across reloads, in sessionStorage) and re-sent after a reconnect, and reconnects
// ask only for what came after the last seq this page has seen.
const config = JSON.parse(document.getElementById("chat-config").textContent);
const guide = JSON.parse(document.getElementById("strategy-guide").textContent);
const role = config.role;
const partnerRole = role === "seeker" ? "supporter" : "seeker";
const $ = (id) => document.getElementById(id);

const log = $("messages");
// The scrolling container around the list (role=log).
const logBox = $("log");
const turnsEl = $("turns");
const elapsedEl = $("elapsed");
const connEl = $("conn");
const typingEl = $("typing");
const noticeEl = $("notice");
const composer = $("composer");
const textEl = $("text");
const sendBtn = $("send");
const endBtn = $("end");
const reportBtn = $("report");
const leaveBtn = $("leave");
const leaveDialog = $("leave-dialog");
const endDialog = $("end-dialog");
const picker = $("strategy-picker");
const feedbackAnnounce = $("feedback-announce");
const feedbackForm = $("feedback");
const helpEl = $("strategy-help");
const endHint = $("end-hint");
const presenceEl = $("presence");
const countdownEl = $("silence-countdown");

const PENDING_KEY = `esc-chat-pending-${config.conversation}`;
const seen = new Set();
let lastSeq = 0;
let socket = null;
let backoff = 500;
let ended = false;
let fatal = false;
let turns = 0;
let startedAt = Date.now();
let partnerLastAt = null;
let serverCanEnd = false;
let serverCanReport = false;
let openPrompt = null;
let typingTimer = null;
let lastTypingSent = 0;
// The heartbeat: a ping every few seconds, each answered by a pong. The link is watched every
// second, and silence for a little under two heartbeats means it is gone, so a lost network
// shows "offline" within two heartbeats (10 s by default).
const HEARTBEAT_MS = (config.heartbeat_seconds || 5) * 1000;
const SILENT_LINK_MS = 2 * HEARTBEAT_MS - 1000;
const WATCH_MS = 1000;
const RETRY_AFTER_MS = 4000;
let heardAt = 0;
let partnerAway = false;
// Messages sent but not acknowledged yet, oldest first: {id, text, strategy}.
let pending = loadPending();
// When each pending message was last handed to the socket (page memory only).
const sentAt = new Map();

function loadPending() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING_KEY) || "[]");
  } catch {
    return [];
  }
}

function savePending() {
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
}

function format(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function showNotice(text, kind = "info") {
  noticeEl.textContent = text;
  noticeEl.dataset.kind = kind;
  noticeEl.hidden = false;
}

function setConn(state, label) {
  connEl.dataset.state = state;
  connEl.textContent = label;
}

// --- Rendering -----------------------------------------------------------------------

function speakerLabel(speaker) {
  if (role === "staff") return speaker === "seeker" ? "Seeker" : "Supporter";
  return speaker === role ? "You" : speaker === "seeker" ? "Help-seeker" : "Supporter";
}

function bubble({ id, speaker, text, strategy, sentAt, seq }) {
  const li = document.createElement("li");
  li.className = `msg from-${speaker}${speaker === role ? " mine" : ""}`;
  li.dataset.id = id;
  if (seq) li.dataset.seq = String(seq);
  const meta = document.createElement("div");
  meta.className = "msg-meta";
  const who = document.createElement("span");
  who.className = "msg-who";
  who.textContent = speakerLabel(speaker);
  meta.append(who);
  if (strategy && role !== "seeker") {
    const tag = document.createElement("span");
    tag.className = "msg-strategy";
    tag.textContent = strategy;
    meta.append(tag);
  }
  const time = document.createElement("time");
  time.className = "msg-time";
  if (sentAt) {
    time.dateTime = sentAt;
    time.textContent = new Date(sentAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  } else {
    time.textContent = "sending…";
  }
  meta.append(time);
  const body = document.createElement("p");
  body.className = "msg-text";
  body.textContent = text;
  li.append(meta, body);
  return li;
}

function scrollToEnd() {
  logBox.scrollTop = logBox.scrollHeight;
}

// The log keeps showing the latest message when it gets shorter (a panel opens under it, the
// phone's keyboard comes up), unless the reader had scrolled up: judged with the height it had
// before, since shrinking leaves scrollTop where it was.
let logHeight = logBox.clientHeight;
new ResizeObserver(() => {
  const before = logHeight;
  logHeight = logBox.clientHeight;
  if (logHeight < before && logBox.scrollTop + before >= logBox.scrollHeight - 24) scrollToEnd();
}).observe(logBox);

function renderMessage(frame) {
  if (seen.has(frame.seq)) return;
  seen.add(frame.seq);
  lastSeq = Math.max(lastSeq, frame.seq);
  const li = bubble({
    id: frame.id,
    speaker: frame.speaker,
    text: frame.text,
    strategy: frame.strategy,
    sentAt: frame.sent_at,
    seq: frame.seq,
  });
  // Our own echo replaces the "sending…" bubble.
  const draft = log.querySelector(`li.draft[data-id="${CSS.escape(frame.id)}"]`);
  if (draft) draft.remove();
  // Keep seq order even if two events cross on the way.
  const later = [...log.querySelectorAll("li[data-seq]")].find((el) => Number(el.dataset.seq) > frame.seq);
  if (later) log.insertBefore(li, later);
  else {
    const firstDraft = log.querySelector("li.draft");
    if (firstDraft) log.insertBefore(li, firstDraft);
    else log.append(li);
  }
  if (frame.speaker === partnerRole) {
    partnerLastAt = Date.parse(frame.sent_at) || Date.now();
    typingEl.hidden = true;
  }
  scrollToEnd();
}

function markRetrying(id) {
  const draft = log.querySelector(`li.draft[data-id="${CSS.escape(id)}"]`);
  if (!draft || draft.classList.contains("retrying")) return;
  draft.classList.add("retrying");
  const time = draft.querySelector(".msg-time");
  if (time) time.textContent = "not delivered yet — retrying";
}

function renderDraft(item) {
  if (log.querySelector(`li[data-id="${CSS.escape(item.id)}"]`)) return;
  const li = bubble({ id: item.id, speaker: role, text: item.text, strategy: item.strategy });
  li.classList.add("draft");
  log.append(li);
  scrollToEnd();
}

// --- Status and the three ways out ---------------------------------------------------

function elapsedSeconds() {
  return (Date.now() - startedAt) / 1000;
}

function applyStatus(frame) {
  turns = frame.turns;
  startedAt = Date.now() - frame.elapsed_s * 1000;
  serverCanEnd = frame.can_end;
  serverCanReport = frame.can_report_unresponsive;
  refreshControls();
}

function refreshControls() {
  turnsEl.textContent = String(turns);
  elapsedEl.textContent = format(elapsedSeconds());
  if (ended || role === "staff") return;
  // The server decides; these local estimates only unlock buttons as time passes between
  // status frames (the server still refuses an early request with an error frame).
  const canEnd =
    serverCanEnd ||
    (role === "seeker" && turns >= config.min_turns_to_end && elapsedSeconds() >= config.min_seconds_to_end);
  const silentSince = partnerLastAt ?? startedAt;
  const canReport = serverCanReport || (Date.now() - silentSince) / 1000 >= config.partner_silence_seconds;
  if (endBtn) {
    endBtn.disabled = !canEnd;
    if (canEnd && endHint) endHint.textContent = "You can end the conversation now, whenever you are ready.";
  }
  if (reportBtn) reportBtn.disabled = !canReport;
  if (countdownEl) {
    const left = config.partner_silence_seconds - (Date.now() - silentSince) / 1000;
    countdownEl.textContent = canReport ? "" : `Available in ${format(left)}.`;
  }
  if (sendBtn) sendBtn.disabled = !canSend();
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function endWith(reason) {
  if (!send({ type: "end", reason })) showNotice("Not connected — please try again in a moment.", "error");
}

// --- Composer --------------------------------------------------------------------------

function chosenStrategy() {
  const checked = composer?.querySelector("input[name=strategy]:checked");
  return checked ? checked.value : null;
}

// Send is enabled as soon as there is text; a supporter without a strategy is told why
// nothing was sent (submitMessage).
function canSend() {
  if (ended || !textEl) return false;
  return textEl.value.trim() !== "";
}

function showStrategyHelp(name) {
  const entry = guide.find((g) => g.name === name);
  helpEl.replaceChildren();
  const title = document.createElement("p");
  title.className = "strategy-name";
  title.textContent = name;
  helpEl.append(title);
  if (entry && entry.definition) {
    const def = document.createElement("p");
    def.textContent = entry.definition;
    helpEl.append(def);
  }
  if (entry && entry.example_supporter) {
    const ex = document.createElement("p");
    ex.className = "strategy-example";
    ex.textContent = `Example: “${entry.example_supporter}” — write your own words, do not copy it.`;
    helpEl.append(ex);
  }
}

function resetStrategy() {
  composer?.querySelectorAll("input[name=strategy]").forEach((input) => {
    input.checked = false;
  });
  if (helpEl) {
    helpEl.replaceChildren();
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "Pick the strategy of your next message.";
    helpEl.append(p);
  }
  picker?.dispatchEvent(new CustomEvent("strategy-reset"));
}

function submitMessage() {
  if (!canSend()) return;
  if (role === "supporter" && !chosenStrategy()) {
    // Nothing is sent; room-controls.js says why and moves focus to the strategies.
    picker?.dispatchEvent(new CustomEvent("strategy-needed"));
    return;
  }
  const item = { id: crypto.randomUUID(), text: textEl.value };
  if (role === "supporter") item.strategy = chosenStrategy();
  if (composition) item.compose = composition.take();
  pending.push(item);
  savePending();
  renderDraft(item);
  sendPending(item);
  textEl.value = "";
  resetStrategy();
  refreshControls();
  textEl.focus();
}

function sendPending(item) {
  sentAt.set(item.id, Date.now());
  send({ type: "message", ...item });
}

function flushPending() {
  for (const item of pending) {
    renderDraft(item);
    sendPending(item);
  }
}

// A message with no acknowledgement after a few seconds says so and goes again (same id, so
// the server stores it once), whatever held it up: the network, the server or what is behind it.
function retryUnacknowledged() {
  const now = Date.now();
  for (const item of pending) {
    if (now - (sentAt.get(item.id) ?? 0) < RETRY_AFTER_MS) continue;
    markRetrying(item.id);
    if (socket && socket.readyState === WebSocket.OPEN) sendPending(item);
  }
}

function forget(id) {
  pending = pending.filter((p) => p.id !== id);
  sentAt.delete(id);
  savePending();
}

function showPresence(frame) {
  if (!presenceEl || frame.role !== partnerRole) return;
  if (!frame.online) {
    partnerAway = true;
    presenceEl.dataset.online = "false";
    presenceEl.textContent = "Your partner's connection dropped. They may be back in a moment.";
    presenceEl.hidden = false;
  } else if (partnerAway) {
    partnerAway = false;
    presenceEl.dataset.online = "true";
    presenceEl.textContent = "Your partner is back.";
    presenceEl.hidden = false;
    setTimeout(() => {
      if (presenceEl.dataset.online === "true") presenceEl.hidden = true;
    }, 5000);
  }
}

// --- Feedback ------------------------------------------------------------------------------

const ENDED_READ_MS = 6000;

function showEnded(frame) {
  showNotice(frame.message || "The conversation has ended.", frame.by === role || frame.reason === "finished" ? "ok" : "info");
  if (!frame.next_url || role === "staff") return;
  const next = document.createElement("a");
  next.href = frame.next_url;
  next.className = "btn";
  next.id = "ended-next";
  next.textContent = "Continue";
  noticeEl.append(" ", next);
  next.focus();
}

// The prompt takes focus (its first star, announced with the question), except from a seeker
// in the middle of typing a message: she is told it is there instead, and keeps typing. The
// same prompt again (sent after a reconnect) changes nothing on the page.
function askFeedback(prompt) {
  if (!feedbackForm) return;
  if (prompt === openPrompt && !feedbackForm.hidden) return;
  openPrompt = prompt;
  const stars = [...feedbackForm.querySelectorAll("input[name=score]")];
  stars.forEach((i) => {
    i.checked = false;
  });
  $("feedback-send").disabled = true;
  feedbackForm.hidden = false;
  const typing = document.activeElement === textEl && textEl.value.trim() !== "";
  feedbackAnnounce.textContent = "";
  if (typing) {
    feedbackAnnounce.textContent =
      "Your supporter asks: do those messages help you feel better? The stars are above the message box.";
  } else {
    stars[0].focus();
  }
}

// --- Safety (docs/safety.md, "In a live chat") ------------------------------------------------

// The seeker is shown the run's help, the supporter the guidance card (static/safety/safety.js),
// and staff watching the conversation the alert; the open flags' list refreshes at once.
function showSafety(frame) {
  if (frame.show === "alert") {
    const labels = [...new Set((frame.flags || []).map((f) => f.label))].join("; ");
    showNotice(`Safety alert — ${labels}. Read the flagged message and decide whether to step in.`, "error");
    document.dispatchEvent(new CustomEvent("esc:safety", { detail: frame }));
    return;
  }
  const safety = window.escSafety;
  if (!safety) return;
  if (frame.show === "help") safety.showHelp();
  else if (frame.show === "guidance") safety.showGuidance();
}

// --- Staff stepping in (docs/safety.md, "Stepping in") ----------------------------------------

const staffBox = $("staff-messages");
const staffList = $("staff-message-list");

// A message from the research team, shown to both workers (and the staff watching) apart from
// the dialogue; each once, whatever the replays.
function addStaffMessage(frame) {
  if (!staffList || staffList.querySelector(`[data-id="${CSS.escape(frame.id)}"]`)) return;
  const item = document.createElement("li");
  item.dataset.id = frame.id;
  item.textContent = frame.text;
  staffList.append(item);
  staffBox.hidden = false;
  if (role === "staff") {
    const staffText = $("staff-text");
    if (staffText && staffText.dataset.sending === frame.id) {
      staffText.value = "";
      delete staffText.dataset.sending;
    }
  }
}

function wireStaffControls() {
  const form = $("staff-composer");
  if (!form) return;
  const staffText = $("staff-text");
  const dialog = $("staff-end-dialog");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = staffText.value.trim();
    if (!text) return;
    const id = `staff-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    staffText.dataset.sending = id;
    if (!send({ type: "staff_message", id, text })) showNotice("Not connected — please try again in a moment.", "error");
  });
  $("staff-end").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "end") endWith("staff");
  });
}

wireStaffControls();

// --- The socket ------------------------------------------------------------------------------

function handle(frame) {
  switch (frame.type) {
    case "hello":
      applyStatus(frame);
      if (frame.pending_feedback_prompt == null && feedbackForm) feedbackForm.hidden = true;
      break;
    case "message":
      renderMessage(frame);
      if (frame.speaker === role) forget(frame.id);
      // A live message carries where the conversation stands after it; a replayed one does not.
      if (frame.status) applyStatus(frame.status);
      break;
    case "ack":
      forget(frame.id);
      break;
    case "status":
      applyStatus(frame);
      break;
    case "typing":
      typingEl.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        typingEl.hidden = true;
      }, 4000);
      break;
    case "feedback_request":
      askFeedback(frame.prompt);
      break;
    case "feedback_ack":
      if (feedbackForm) {
        // The stars go away: focus returns to the message box rather than to nowhere.
        const hadFocus = feedbackForm.contains(document.activeElement);
        feedbackForm.hidden = true;
        if (hadFocus) textEl.focus();
      }
      openPrompt = null;
      showNotice("Thank you — your rating is saved.", "ok");
      setTimeout(() => {
        if (noticeEl.dataset.kind === "ok") noticeEl.hidden = true;
      }, 3000);
      break;
    case "warning":
      showNotice(frame.message, "warn");
      break;
    case "safety":
      showSafety(frame);
      break;
    case "staff_message":
      addStaffMessage(frame);
      break;
    case "presence":
      showPresence(frame);
      break;
    case "pong":
      break;
    case "error": {
      if (frame.retryable) {
        // Stored or not, the same id goes again shortly; the server keeps it once.
        if (frame.ref) markRetrying(frame.ref);
        break;
      }
      if (frame.ref && pending.some((p) => p.id === frame.ref)) {
        // The server refused this message; sending it again would be refused again.
        forget(frame.ref);
        log.querySelector(`li.draft[data-id="${CSS.escape(frame.ref)}"]`)?.classList.add("failed");
      }
      showNotice(frame.message, "error");
      break;
    }
    case "ended":
      ended = true;
      sessionStorage.removeItem(PENDING_KEY);
      // Say what happened in plain words, and give the worker time to read it.
      showEnded(frame);
      if ($("staff-composer")) $("staff-composer").hidden = true;
      document.body.classList.add("chat-ended");
      refreshControls();
      if (frame.next_url && role !== "staff") {
        // Whoever ended it knows why; the other side gets time to read what happened.
        const wait = frame.by === role ? 1500 : ENDED_READ_MS;
        setTimeout(() => window.location.assign(frame.next_url), wait);
      }
      break;
    default:
      break;
  }
}

function reconnectLater() {
  const delay = Math.min(backoff, 15000) * (0.75 + Math.random() * 0.5);
  backoff *= 2;
  setTimeout(connect, delay);
}

function connect() {
  if (fatal || ended) return;
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.host}${config.wsPath}?after=${lastSeq}&heartbeat=1`;
  // After a drop the page keeps saying "offline — reconnecting" until the socket opens.
  if (connEl.dataset.state !== "closed") setConn("connecting", "connecting…");
  const ws = new WebSocket(url);
  socket = ws;
  heardAt = Date.now();
  let flushed = false;
  ws.addEventListener("open", () => {
    if (ws !== socket) return;
    setConn("open", "live");
  });
  ws.addEventListener("message", (event) => {
    if (ws !== socket) return;
    heardAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    handle(frame);
    // The hello and replay come first; resend what the server may not have stored yet.
    if (frame.type === "hello" && !flushed) {
      flushed = true;
      backoff = 500;
      queueMicrotask(flushPending);
    }
  });
  ws.addEventListener("close", (event) => {
    if (ws !== socket) return;
    setConn("closed", "offline — reconnecting");
    if (ended) return;
    if ([4401, 4403, 4404].includes(event.code)) {
      fatal = true;
      setConn("closed", "offline");
      showNotice("You cannot join this conversation. Please reload the page or use your task link.", "error");
      return;
    }
    if (event.code === 4429) {
      fatal = true;
      setConn("closed", "offline");
      showNotice("This chat is open in too many tabs or windows. Close the others, then reload this page.", "error");
      return;
    }
    if (event.code === 4409) return;
    reconnectLater();
  });
}

// A socket that has said nothing for a while is dead even if the browser still calls it open
// (a lost network closes nothing), so drop it and reconnect. Checked every second.
function dropSocket() {
  const dead = socket;
  socket = null;
  setConn("closed", "offline — reconnecting");
  dead.close();
  reconnectLater();
}

function watchLink() {
  if (fatal || ended || !socket) return;
  const silentFor = Date.now() - heardAt;
  if (socket.readyState === WebSocket.OPEN && silentFor > SILENT_LINK_MS) {
    dropSocket();
  } else if (socket.readyState === WebSocket.CONNECTING && silentFor > 3 * HEARTBEAT_MS) {
    // A handshake that never completes (no network) is given up and tried again.
    dropSocket();
  }
}

function ping() {
  if (!fatal && !ended && socket && socket.readyState === WebSocket.OPEN) send({ type: "ping" });
}

// --- How messages are written (docs/authenticity.md, "In the chat") ----------------------

const PASTE_WARNING = "Please write in your own words: pasted text is shown to the research team.";
const PASTE_REFUSED = "Pasting longer text is turned off here: please write in your own words.";

// A paste is answered at once; with the run's "refuse" policy a long one does not go in.
function onPaste(text) {
  if (config.paste_policy === "refuse" && text.length > config.paste_max_chars) {
    showNotice(PASTE_REFUSED, "error");
    return false;
  }
  if (text.trim()) showNotice(PASTE_WARNING, "error");
  return true;
}

const composition = textEl && window.escCompose ? window.escCompose.trackComposition(textEl, { onPaste }) : null;

// --- Wiring ------------------------------------------------------------------------------

if (composer) {
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });
  textEl.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  textEl.addEventListener("input", () => {
    refreshControls();
    if (Date.now() - lastTypingSent > 2500 && textEl.value) {
      lastTypingSent = Date.now();
      send({ type: "typing" });
    }
  });
  composer.querySelectorAll("input[name=strategy]").forEach((input) => {
    input.addEventListener("change", () => {
      showStrategyHelp(input.value);
      refreshControls();
    });
  });
}

if (feedbackForm) {
  feedbackForm.addEventListener("change", () => {
    $("feedback-send").disabled = !feedbackForm.querySelector("input[name=score]:checked");
  });
  feedbackForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const checked = feedbackForm.querySelector("input[name=score]:checked");
    if (!checked || openPrompt == null) return;
    send({ type: "feedback", prompt: openPrompt, score: Number(checked.value) });
  });
}

// Ending and leaving each ask first. The answer is cleared before every opening: Escape
// closes a dialog without one, and must not repeat an earlier "End now".
function confirmThen(dialog, answer, reason) {
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === answer) endWith(reason);
  });
  return () => {
    dialog.returnValue = "";
    dialog.showModal();
  };
}

if (endBtn) endBtn.addEventListener("click", confirmThen(endDialog, "end", "finished"));
reportBtn?.addEventListener("click", () => endWith("partner_unresponsive"));
if (leaveBtn) leaveBtn.addEventListener("click", confirmThen(leaveDialog, "leave", "leave"));

setInterval(() => {
  refreshControls();
  retryUnacknowledged();
}, 1000);
setInterval(watchLink, WATCH_MS);
setInterval(ping, HEARTBEAT_MS);
for (const item of pending) renderDraft(item);
connect();
