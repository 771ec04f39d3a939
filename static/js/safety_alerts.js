// Staff pages' safety alerts as they happen (docs/safety.md, "For staff"). The server renders
// the open alerts ([data-safety-alerts], safety/_alerts.html); this adds each new one at the top
// from the staff alerts socket, which reconnects by itself. Text goes in as text, never HTML.

const PING_MS = 20000;
const RETRY_MS = [1000, 2000, 5000, 10000];

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function link(text, href) {
  const a = node("a", "", text);
  a.href = href;
  return a;
}

function alertItem(alert, resolveUrl) {
  const item = node("li", "safety-alert new");
  item.dataset.flag = String(alert.flag);
  item.dataset.crisis = String(alert.crisis);
  const where = alert.position === null ? "" : `, message ${alert.position}`;
  const time = new Date(alert.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  item.append(
    node("strong", "", alert.label),
    ` in conversation #${alert.conversation} (${alert.run})${where} · ${time} · `,
    link("Watch live", alert.watch_url),
    " · ",
    link("Resolve", `${resolveUrl}#flag-${alert.flag}`),
  );
  return item;
}

function watch(section) {
  const list = section.querySelector("[data-alert-list]");
  const count = section.querySelector("[data-alert-count]");
  const empty = section.querySelector("[data-alerts-empty]");
  const status = section.querySelector("[data-alerts-status]");
  const run = section.dataset.run;
  let attempt = 0;
  let pinger = null;

  function add(alert) {
    if (run && alert.run !== run) return;
    if (list.querySelector(`[data-flag="${CSS.escape(String(alert.flag))}"]`)) return;
    list.prepend(alertItem(alert, section.dataset.resolveUrl));
    count.textContent = String(list.children.length);
    empty.hidden = true;
    section.dataset.latest = String(alert.flag);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${section.dataset.safetyAlerts}`);
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "ready") {
        attempt = 0;
        section.dataset.state = "open";
        status.textContent = "New alerts appear here at once.";
      } else if (frame.type === "safety_alert") {
        add(frame);
      }
    });
    socket.addEventListener("open", () => {
      pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_MS);
    });
    socket.addEventListener("close", () => {
      clearInterval(pinger);
      section.dataset.state = "closed";
      status.textContent = "Not receiving new alerts right now — reconnecting; reload the page to be sure.";
      setTimeout(connect, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
    });
  }

  connect();
}

document.querySelectorAll("[data-safety-alerts]").forEach(watch);
