/**
 * The report page's script (inline, plain ES2017, no dependencies): reads the JSON data element and draws
 * the timeline as absolutely positioned elements built in one pass (one `innerHTML` per layer), placed in
 * percent of the run so zooming only changes one width. One delegated listener serves every bar's
 * details, so 10,000 attempts cost no more listeners than ten.
 */
export const PAGE_SCRIPT = `(function () {
  "use strict";
  var ROW = 22;
  var data = JSON.parse(document.getElementById("flotilla-data").textContent);
  var total = data.makespanMs > 0 ? data.makespanMs : 1;
  var root = document.getElementById("gantt");
  var scroller = root.querySelector(".scroller");
  var inner = root.querySelector(".inner");
  var axis = root.querySelector(".axis");
  var plot = root.querySelector(".plot");
  var labels = root.querySelector(".labels-body");
  var tip = document.getElementById("tip");
  var ENT = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return ENT[c]; }); }
  function pct(ms) { return (Math.max(0, ms) / total * 100).toFixed(4) + "%"; }
  function fmt(ms) {
    if (ms === 0) return "0";
    if (ms < 1) return Math.round(ms * 1000) + " µs";
    if (ms < 999.5) return Math.round(ms) + " ms";
    if (ms < 59950) return (ms / 1000).toFixed(ms < 9995 ? 2 : 1) + " s";
    var s = Math.round(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    var m = Math.round(s / 60);
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  /** A round step (1, 2 or 5 times a power of ten) giving about 'count' ticks over the run. */
  function tickStep(count) {
    var raw = total / count, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
  }

  var out = [], i;
  for (i = 0; i < data.rows.length; i++) {
    var r = data.rows[i];
    out.push('<div class="label k-' + r.k + '" style="top:' + i * ROW + 'px" title="' + esc(r.label) + '">' + esc(r.label) + "</div>");
  }
  labels.innerHTML = out.join("");
  labels.style.height = plot.style.height = Math.max(1, data.rows.length) * ROW + "px";

  function drawAxis() {
    var width = inner.getBoundingClientRect().width;
    var step = tickStep(Math.max(2, Math.floor(width / 110)));
    var ticks = [], lines = [];
    for (var t = 0; t <= total + step / 1000; t += step) {
      ticks.push('<div class="tick' + (t > total * 0.94 && t > 0 ? " end" : "") + '" style="left:' + pct(t) + '">' + fmt(t) + "</div>");
      lines.push('<div class="grid" style="left:' + pct(t) + '"></div>');
    }
    axis.innerHTML = ticks.join("");
    grid.innerHTML = lines.join("");
  }

  out = ['<div class="gridlines"></div>'];
  for (i = 0; i < data.rows.length; i++) if (data.rows[i].k === "pool") out.push('<div class="band" style="top:' + i * ROW + 'px"></div>');
  for (i = 0; i < data.lives.length; i++) {
    var l = data.lives[i];
    out.push('<div class="life end-' + esc(l.end) + '" data-life="' + i + '" style="top:' + (l.r * ROW + 7) + "px;left:" + pct(l.s) + ";width:" + pct(l.e - l.s) + '"></div>');
  }
  for (i = 0; i < data.bars.length; i++) {
    var b = data.bars[i], task = data.tasks[b.ti];
    out.push(
      '<div class="bar o-' + esc(b.o) + (task.c ? " critical" : "") + '" data-i="' + i + '" data-task="' + esc(task.id) + '" data-attempt="' + b.a +
        '" data-outcome="' + esc(b.o) + '" style="top:' + (b.r * ROW + 3) + "px;left:" + pct(b.s) + ";width:" + pct(b.e - b.s) + '">' +
        "<span>" + esc(b.a > 1 ? task.id + " #" + b.a : task.id) + "</span></div>"
    );
  }
  plot.innerHTML = out.join("");
  var grid = plot.querySelector(".gridlines");
  var barEls = plot.querySelectorAll(".bar");
  var byTask = new Map();
  for (i = 0; i < barEls.length; i++) {
    var ti = data.bars[i].ti;
    if (!byTask.has(ti)) byTask.set(ti, []);
    byTask.get(ti).push(barEls[i]);
  }

  // ---- zoom: the plot's width is the visible width times the zoom; bars are placed in percent ----
  var zoom = 1;
  function layout(anchor) {
    var before = scroller.scrollLeft, widthBefore = inner.getBoundingClientRect().width;
    var visible = Math.max(200, scroller.clientWidth - root.querySelector(".labels").getBoundingClientRect().width - 2);
    inner.style.width = Math.round(visible * zoom) + "px";
    drawAxis();
    if (anchor !== undefined && widthBefore > 0) scroller.scrollLeft = (before + anchor) * (visible * zoom) / widthBefore - anchor;
  }
  root.querySelector(".toolbar").addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button[data-zoom]");
    if (!button) return;
    var action = button.getAttribute("data-zoom");
    zoom = action === "fit" ? 1 : Math.min(256, Math.max(1, action === "in" ? zoom * 2 : zoom / 2));
    layout(scroller.clientWidth / 2);
  });
  document.getElementById("focus-critical").addEventListener("change", function (ev) {
    root.classList.toggle("focus", ev.target.checked);
  });
  window.addEventListener("resize", function () { layout(); });
  layout();

  // ---- details on hover: one listener for every bar ----
  var current = null, lit = [];
  function light(list) {
    for (var k = 0; k < lit.length; k++) lit[k].classList.remove("same");
    lit = list || [];
    if (lit.length > 1) for (var k2 = 0; k2 < lit.length; k2++) lit[k2].classList.add("same");
  }
  function detail(name, value) { return "<tr><th>" + name + "</th><td>" + value + "</td></tr>"; }
  function barDetails(b) {
    var task = data.tasks[b.ti], rows = "";
    rows += detail("node", esc(b.n) + ' <span style="color:#9aa4ae">pool ' + esc(b.p) + "</span>");
    rows += detail("start", fmt(b.s));
    rows += detail("duration", fmt(b.e - b.s));
    if (typeof b.rd === "number" && b.s - b.rd >= 0.5) rows += detail("waited", fmt(b.s - b.rd) + " for a slot");
    if (b.sl > 1) rows += detail("slots", String(b.sl));
    if (task.d.length) rows += detail("depends on", esc(task.d.slice(0, 6).join(", ")) + (task.d.length > 6 ? " (+" + (task.d.length - 6) + " more)" : ""));
    return '<div class="t">' + esc(task.id) + "</div>" +
      '<div class="o o-' + esc(b.o) + '">attempt ' + b.a + " · " + esc(b.o) + "</div>" +
      "<table>" + rows + "</table>" +
      (b.err ? '<div class="e">' + esc(b.err) + "</div>" : "") +
      (task.c ? '<div class="c">on the critical path</div>' : "");
  }
  function lifeDetails(l) {
    return '<div class="t">' + esc(l.n) + "</div>" + "<table>" + detail("pool", esc(l.p)) + detail("up", fmt(l.s) + " → " + fmt(l.e)) +
      detail("for", fmt(l.e - l.s)) + detail("ended", l.end === "running" ? "still up at the end of the run" : esc(l.end)) + "</table>" +
      (l.err ? '<div class="e">' + esc(l.err) + "</div>" : "");
  }
  function hide() { tip.hidden = true; current = null; light(null); }
  plot.addEventListener("mousemove", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-i],[data-life]") : null;
    if (!el) { hide(); return; }
    if (el !== current) {
      current = el;
      if (el.hasAttribute("data-i")) {
        var b = data.bars[+el.getAttribute("data-i")];
        tip.innerHTML = barDetails(b);
        light(byTask.get(b.ti));
      } else {
        tip.innerHTML = lifeDetails(data.lives[+el.getAttribute("data-life")]);
        light(null);
      }
      tip.hidden = false;
    }
    var x = ev.clientX + 14, y = ev.clientY + 14, w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 8) x = Math.max(8, ev.clientX - w - 14);
    if (y + h > window.innerHeight - 8) y = Math.max(8, ev.clientY - h - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
  plot.addEventListener("mouseleave", hide);
  scroller.addEventListener("scroll", function () { if (current) hide(); });
})();
`;
