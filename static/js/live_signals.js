// Staff live view: the seeker's ratings and the open flags, kept current without a reload.
// The live list ([data-live-feed]) and the watched conversation ([data-watch-signals]) poll a
// staff-only JSON endpoint (chat/watch.py) and redraw what it says, in the markup that the
// server renders first (chat/templates/chat/_signal_*.html). Text goes in as text, never HTML.

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function ratingsNodes(item) {
  if (!item.ratings.length) return [node("span", "muted", "none yet")];
  const nodes = [];
  item.ratings.forEach((score, index) => {
    if (index) nodes.push(document.createTextNode(" · "));
    nodes.push(node("span", "rating", String(score)));
  });
  if (item.mean_rating !== null) {
    nodes.push(document.createTextNode(" "), node("span", "muted", `(mean ${Number(item.mean_rating).toFixed(1)})`));
  }
  return nodes;
}

function flagsNodes(item, detailed) {
  if (!item.flags.length) return [node("span", "muted", "none")];
  const list = node("ul", "flag-list");
  for (const flag of item.flags) {
    const entry = node("li", "flag", flag.label);
    entry.dataset.kind = flag.kind;
    entry.title = flag.detail;
    if (flag.message) {
      entry.append(" ", node("span", "muted", `(message ${flag.message})`));
    }
    if (detailed && flag.detail) entry.append(node("span", "flag-detail", ` — ${flag.detail}`));
    list.append(entry);
  }
  return [list];
}

function fill(container, item, detailed) {
  container.querySelector("[data-signal=ratings]").replaceChildren(...ratingsNodes(item));
  container.querySelector("[data-signal=flags]").replaceChildren(...flagsNodes(item, detailed));
}

function liveRow(row) {
  const tr = node("tr");
  tr.dataset.conversation = String(row.id);
  const first = node("td", "", String(row.id));
  if (row.demo) first.append(" ", node("span", "demo-tag", "demo"));
  const cells = [
    `worker ${row.seeker_id}`,
    `worker ${row.supporter_id}`,
    `${row.problem_type} / ${row.emotion_type}`,
    String(row.turns),
    String(row.messages),
    `${row.elapsed_s} s`,
  ];
  tr.append(first, ...cells.map((text) => node("td", "", text)));
  for (const name of ["ratings", "flags"]) {
    const cell = node("td");
    cell.dataset.signal = name;
    tr.append(cell);
  }
  const watch = node("a", "", "Watch");
  watch.href = row.watch_url;
  const last = node("td");
  last.append(watch);
  tr.append(last);
  fill(tr, row, false);
  return tr;
}

function say(status, text) {
  if (status) status.textContent = text;
}

function clock() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// Ask `url` every `seconds` (not while the tab is hidden) and hand the JSON to `draw`; a
// failed poll says so and is tried again. `draw` returns false to stop.
function poll(url, seconds, status, draw) {
  const period = Math.max(Number(seconds) || 5, 1) * 1000;
  async function once() {
    if (document.visibilityState === "hidden") return true;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const more = draw(await response.json());
      say(status, `Updated at ${clock()}.`);
      return more;
    } catch (error) {
      say(status, `Could not update (${error.message}); trying again.`);
      return true;
    }
  }
  async function loop() {
    if (await once()) window.setTimeout(loop, period);
  }
  window.setTimeout(loop, period);
}

const table = document.querySelector("[data-live-feed]");
if (table) {
  const status = document.querySelector("[data-live-status]");
  const empty = document.querySelector("[data-live-empty]");
  poll(table.dataset.liveFeed, table.dataset.pollSeconds, status, (feed) => {
    table.tBodies[0].replaceChildren(...feed.conversations.map(liveRow));
    if (empty) empty.hidden = feed.conversations.length > 0;
    return true;
  });
}

const panel = document.querySelector("[data-watch-signals]");
if (panel) {
  const status = panel.querySelector("[data-live-status]");
  const detailed = panel.dataset.detailed === "true";
  poll(panel.dataset.watchSignals, panel.dataset.pollSeconds, status, (signals) => {
    fill(panel, signals, detailed);
    // An ended chat gets no new ratings; its flags stay as the reviewers' queue shows them.
    return signals.state === "active";
  });
}
