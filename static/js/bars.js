// Width of data bars (progress, error rates) from their data-bar-percent attribute. A style
// attribute in the markup would be blocked by the Content-Security-Policy; setting the
// property from a script of our own is allowed.
for (const bar of document.querySelectorAll("[data-bar-percent]")) {
  const percent = Number(bar.dataset.barPercent);
  if (Number.isFinite(percent)) {
    bar.style.width = `${Math.min(Math.max(percent, 0), 100)}%`;
  }
}
