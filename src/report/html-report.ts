/**
 * One self-contained HTML file for a run: the summary (written here, readable without script) and a
 * Gantt timeline drawn by an inline script from JSON embedded in the page. Nothing is loaded from
 * anywhere: no network, no fonts, no other file.
 */
import { FlotillaError, describe } from "../errors.ts";
import { ATTEMPT_OUTCOMES, type ChromeTrace } from "../trace/chrome-trace.ts";
import { escapeHtml as h, formatMs, jsonForScript } from "./html-text.ts";
import { pageData } from "./page-data.ts";
import { PAGE_SCRIPT } from "./page-script.ts";
import { PAGE_STYLE } from "./page-style.ts";
import { type RunSummary, summaryOf } from "./summarize.ts";
import { readTrace } from "./trace-model.ts";

export interface HtmlReportOptions {
  /** The page's title and heading. @default `Run report: <job>` */
  readonly title?: string;
}

/**
 * The report of a run as one HTML page (inline CSS and script, no network): a summary, then a timeline
 * with a row per lane of every node, grouped by pool; attempts are bars coloured by outcome (failures
 * red), the critical path outlined, details on hover.
 *
 * Stable hooks for tests and scripts: `#summary` carries `data-tasks`, `data-attempts`, `data-succeeded`,
 * `data-failed`, `data-cancelled`, `data-skipped`, `data-status`, `data-makespan-ms`; every attempt is a
 * `.bar` with `data-task`, `data-attempt` and `data-outcome`, and class `critical` on the critical path.
 *
 * @example
 * const result = await run(job, { trace: true });
 * await writeFile("report.html", htmlReport(result.trace, { title: "nightly build" }));
 */
export function htmlReport(trace: ChromeTrace, options: HtmlReportOptions = {}): string {
  const title = options?.title;
  if (title !== undefined && typeof title !== "string") {
    throw new FlotillaError("E_INVALID_OPTION", `htmlReport(trace, options): option "title" must be a string, received ${describe(title)}`);
  }
  const model = readTrace(trace, "htmlReport(trace)");
  const summary = summaryOf(model);
  const data = pageData(model, summary.criticalPath);
  const heading = title ?? `Run report: ${model.job || "job"}`;
  const present = ATTEMPT_OUTCOMES.filter((o) => summary.attempts[o] > 0);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="flotilla">
<title>${h(heading)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
<h1>${h(heading)}</h1>
<p class="subtitle">job <b>${h(model.job)}</b> <span class="pill s-${h(summary.status)}">${h(summary.status)}</span> in ${h(formatMs(summary.makespanMs))}</p>
${summarySection(summary)}
<section class="timeline" id="gantt">
<div class="toolbar">
<h2>Timeline</h2>
<div class="legend">${present.map((o) => `<span><i class="swatch o-${o}"></i>${o}</span>`).join("")}<span><i class="swatch crit"></i>critical path</span></div>
<span class="spacer"></span>
<label><input type="checkbox" id="focus-critical"> focus on the critical path</label>
<span><button type="button" data-zoom="out" title="zoom out">−</button> <button type="button" data-zoom="fit" title="fit the run">fit</button> <button type="button" data-zoom="in" title="zoom in">+</button></span>
</div>
<div class="scroller"><div class="sheet">
<div class="labels"><div class="corner">node / lane</div><div class="labels-body"></div></div>
<div class="inner"><div class="axis"></div><div class="plot"></div></div>
</div></div>
<noscript><p>The timeline is drawn by the page's script; the summary above is complete without it.</p></noscript>
</section>
</main>
<div id="tip" hidden></div>
<script type="application/json" id="flotilla-data">${jsonForScript(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function summarySection(s: RunSummary): string {
  const attrs = [
    ["tasks", s.tasks.total],
    ["attempts", s.attempts.total],
    ["succeeded", s.tasks.succeeded],
    ["failed", s.tasks.failed],
    ["cancelled", s.tasks.cancelled],
    ["skipped", s.tasks.skipped],
    ["status", s.status],
    ["makespan-ms", s.makespanMs],
    ["critical-tasks", s.criticalPath.tasks.length],
  ]
    .map(([k, v]) => `data-${k}="${h(String(v))}"`)
    .join(" ");
  const taskParts = (["succeeded", "failed", "cancelled", "skipped"] as const).filter((k) => s.tasks[k] > 0).map((k) => `${s.tasks[k]} ${k}`);
  if (s.tasks.restored > 0) taskParts.push(`${s.tasks.restored} restored`);
  if (s.tasks.unfinished > 0) taskParts.push(`${s.tasks.unfinished} unfinished`);
  const attemptParts = (["retry", "timeout", "requeued", "abandoned"] as const).filter((k) => s.attempts[k] > 0).map((k) => `${s.attempts[k]} ${k}`);
  const peak = s.pools.map((p) => `${p.pool} ${p.peakNodes}`).join(" · ");
  return `<section id="summary" ${attrs}>
<div class="cards">
${card("Makespan", formatMs(s.makespanMs), "from the run's start to its end")}
${card("Tasks", String(s.tasks.total), taskParts.join(" · ") || "none")}
${card("Failed", String(s.tasks.failed), s.tasks.failed > 0 ? listed(s.failed.map((f) => f.task)) : "no task failed", s.tasks.failed > 0)}
${card("Attempts", String(s.attempts.total), attemptParts.join(" · ") || "no retry")}
${card("Critical path", formatMs(s.criticalPath.durationMs), `${s.criticalPath.tasks.length} task${s.criticalPath.tasks.length === 1 ? "" : "s"}`)}
${card("Peak nodes", String(s.pools.reduce((n, p) => n + p.peakNodes, 0)), peak || "no node started")}
</div>
<div class="panels">
${failedPanel(s)}
${criticalPanel(s)}
${slowestPanel(s)}
${poolsPanel(s)}
</div>
</section>`;
}

/** `a, b, c and 4 more` */
function listed(names: readonly string[], max = 3): string {
  return names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

function card(key: string, value: string, sub: string, bad = false): string {
  return `<div class="card"><div class="k">${h(key)}</div><div class="v${bad ? " bad" : ""}">${h(value)}</div><div class="sub">${h(sub)}</div></div>`;
}

function failedPanel(s: RunSummary): string {
  const body =
    s.failed.length === 0
      ? `<p class="none">No task failed.</p>`
      : `<table><thead><tr><th>task</th><th class="num">attempts</th><th>error</th></tr></thead><tbody>${s.failed
          .map((f) => `<tr><td class="task" title="${h(f.task)}">${h(f.task)}</td><td class="num">${f.attempts}</td><td class="err">${h(f.error)}</td></tr>`)
          .join("")}</tbody></table>`;
  return `<section class="panel" id="failed-tasks"><h2>Failed tasks</h2>${body}</section>`;
}

const MAX_PATH_ROWS = 14;
const PATH_HEAD = 6;
const PATH_TAIL = 6;

function criticalPanel(s: RunSummary): string {
  const { steps } = s.criticalPath;
  const body =
    steps.length === 0
      ? `<p class="none">No attempt ran.</p>`
      : `<ol class="path">${steps
          .map((step, i) =>
            // A long chain shows its first and last steps, numbered as in the whole chain.
            steps.length > MAX_PATH_ROWS && i >= PATH_HEAD && i < steps.length - PATH_TAIL
              ? i === PATH_HEAD
                ? `<li class="gap">… ${steps.length - PATH_HEAD - PATH_TAIL} more …</li>`
                : ""
              : `<li><span class="n">${i + 1}</span><span class="task" title="${h(step.task)}">${h(step.task)}</span><span class="when">${h(formatMs(step.endMs - step.startMs))}${step.attempts > 1 ? ` · ${step.attempts} attempts` : ""} · ends ${h(formatMs(step.endMs))}</span></li>`,
          )
          .join("")}</ol>`;
  return `<section class="panel" id="critical-path"><h2>Critical path · ${h(formatMs(s.criticalPath.durationMs))}</h2>${body}</section>`;
}

function slowestPanel(s: RunSummary): string {
  const body =
    s.slowest.length === 0
      ? `<p class="none">No attempt ran.</p>`
      : `<table><thead><tr><th>task</th><th class="num">duration</th><th class="num">attempts</th><th>node</th></tr></thead><tbody>${s.slowest
          .map(
            (t) =>
              `<tr><td class="task" title="${h(t.task)}">${h(t.task)}</td><td class="num">${h(formatMs(t.durationMs))}</td><td class="num">${t.attempts}</td><td class="nowrap">${h(t.node)} <span style="color:var(--muted)">${h(t.pool)}</span></td></tr>`,
          )
          .join("")}</tbody></table>`;
  return `<section class="panel" id="slowest-tasks"><h2>Slowest tasks</h2>${body}</section>`;
}

function poolsPanel(s: RunSummary): string {
  const body =
    s.pools.length === 0
      ? `<p class="none">No pool ran anything.</p>`
      : `<table><thead><tr><th>pool</th><th class="num" title="most nodes up at once">peak</th><th class="num" title="nodes started">nodes</th><th class="num">attempts</th><th class="num" title="nodes lost">lost</th><th class="num" title="nodes preempted">preempted</th></tr></thead><tbody>${s.pools
          .map(
            (p) =>
              `<tr><td class="task">${h(p.pool)}</td><td class="num">${p.peakNodes}</td><td class="num">${p.nodes}</td><td class="num">${p.attempts}</td><td class="num">${p.lost}</td><td class="num">${p.preempted}</td></tr>`,
          )
          .join("")}</tbody></table>`;
  return `<section class="panel" id="pools"><h2>Pools</h2>${body}</section>`;
}
