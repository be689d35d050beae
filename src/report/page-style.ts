/** The report page's stylesheet (inline: the page loads nothing). System fonts only. */

/** Bar colour of each attempt outcome; failures are red. Also used for the legend. */
export const OUTCOME_COLORS: Readonly<Record<string, string>> = {
  succeeded: "#2f9e5b",
  failed: "#d93025",
  retry: "#f08c2e",
  timeout: "#8e44ad",
  requeued: "#4a7fe0",
  cancelled: "#9aa0a6",
  abandoned: "#5f6368",
  running: "#7fb2f0",
};

const outcomeRules = Object.entries(OUTCOME_COLORS)
  .map(([outcome, color]) => `.o-${outcome}{--c:${color}}`)
  .join("\n");

export const PAGE_STYLE = `
:root{--ink:#1f2328;--muted:#656d76;--line:#d8dee4;--panel:#fff;--bg:#f3f4f6;--row:22px;--label:230px;--critical:#f5b301}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{padding:24px 28px 40px}
h1{font-size:22px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:13px;margin:0 0 10px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:600}
.subtitle{color:var(--muted);margin:0 0 20px}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-weight:600;font-size:12px;color:#fff;background:#6e7781;vertical-align:1px}
.pill.s-succeeded{background:#2f9e5b}.pill.s-failed{background:#d93025}.pill.s-cancelled{background:#6e7781}.pill.s-running{background:#4a7fe0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 16px;min-width:150px;flex:1 1 150px}
.card .k{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:600}
.card .v{font-size:24px;font-weight:650;margin-top:2px;font-variant-numeric:tabular-nums}
.card .sub{font-size:12px;color:var(--muted);margin-top:2px}
.card .v.bad{color:#d93025}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px;margin-bottom:20px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0;overflow-x:auto}
.panel td.nowrap{white-space:nowrap}
.panel table{border-collapse:collapse;width:100%;font-size:13px}
.panel th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;border-bottom:1px solid var(--line);padding:4px 7px 4px 0}
.panel td{padding:5px 7px 5px 0;border-bottom:1px solid #eef1f4;vertical-align:top;font-variant-numeric:tabular-nums}
.panel tr:last-child td{border-bottom:0}
.panel th:last-child,.panel td:last-child{padding-right:0}
.panel .num{text-align:right;white-space:nowrap}
.panel .none{color:var(--muted);margin:0}
.task{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
td.task{white-space:nowrap;max-width:240px;overflow:hidden;text-overflow:ellipsis}
.panel th{white-space:nowrap}
.err{color:#b42318;word-break:break-word}
ol.path{margin:0;padding:0;list-style:none}
ol.path li{display:grid;grid-template-columns:24px minmax(0,1fr) auto;gap:8px;align-items:baseline;padding:4px 0;border-bottom:1px solid #eef1f4}
ol.path li:last-child{border-bottom:0}
ol.path .n{color:var(--muted);font-size:12px;text-align:right;font-variant-numeric:tabular-nums}
ol.path li.gap{display:block;color:var(--muted);font-size:12px;padding-left:32px}
ol.path .task{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
ol.path .when{color:var(--muted);font-size:12px;white-space:nowrap;font-variant-numeric:tabular-nums}
.timeline{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px;margin-bottom:10px;font-size:12px;color:var(--muted)}
.toolbar h2{margin:0 8px 0 0}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:3px;background:var(--c);vertical-align:-1px;margin-right:4px}
.swatch.crit{background:#fff;box-shadow:inset 0 0 0 2px var(--critical)}
.spacer{flex:1}
.toolbar label{display:inline-flex;align-items:center;gap:5px;cursor:pointer;color:var(--ink)}
.toolbar button{font:inherit;color:var(--ink);background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:2px 10px;cursor:pointer;min-width:30px}
.toolbar button:hover{background:#eef1f4}
.scroller{overflow:auto;max-height:78vh;border:1px solid var(--line);border-radius:8px;position:relative}
.sheet{display:flex;width:max-content;min-width:100%}
.labels{position:sticky;left:0;z-index:3;flex:none;width:var(--label);background:#fff;border-right:1px solid var(--line)}
.corner,.axis{position:sticky;top:0;height:28px;background:#fff;border-bottom:1px solid var(--line);z-index:4}
.corner{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);padding:7px 10px;font-weight:600}
.labels-body,.plot{position:relative;background:repeating-linear-gradient(#fff 0 var(--row),#f7f8fa var(--row) calc(2*var(--row)))}
.label{position:absolute;left:0;right:0;height:var(--row);line-height:var(--row);padding:0 10px 0 26px;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:#3b424a}
.label.k-node{padding-left:14px;font-weight:600;color:var(--ink)}
.label.k-pool{padding-left:8px;font-weight:700;color:var(--ink);background:#eaeef2;text-transform:none}
.inner{flex:none;position:relative;min-width:200px}
.axis{overflow:hidden}
.tick.end{transform:translateX(-100%);border-left:0;border-right:1px solid var(--line);padding:6px 4px 0 0}
.tick{position:absolute;top:0;height:28px;border-left:1px solid var(--line);padding:6px 0 0 4px;font-size:11px;color:var(--muted);white-space:nowrap;font-variant-numeric:tabular-nums}
.gridlines{position:absolute;inset:0;pointer-events:none}
.grid{position:absolute;top:0;bottom:0;width:0;border-left:1px dashed #e3e7eb}
.band{position:absolute;left:0;right:0;height:var(--row);background:#eaeef2}
.life{position:absolute;height:8px;min-width:2px;border-radius:4px;background:#c4ccd5}
.life.end-lost{background:linear-gradient(90deg,#c4ccd5 calc(100% - 8px),#d93025 0)}
.life.end-preempted{background:linear-gradient(90deg,#c4ccd5 calc(100% - 8px),#f08c2e 0)}
.life.end-running{background:linear-gradient(90deg,#c4ccd5 70%,#e6eaef)}
.bar{position:absolute;height:16px;min-width:2px;border-radius:3px;background:var(--c);color:#fff;font-size:11px;line-height:16px;white-space:nowrap;overflow:hidden;cursor:default;box-shadow:inset -1px 0 rgba(255,255,255,.6);container-type:inline-size}
.bar span{display:block;padding:0 4px 0 5px;overflow:hidden;text-overflow:ellipsis;pointer-events:none}
@container (max-width:26px){.bar span{visibility:hidden}}
.bar.o-cancelled,.bar.o-running{color:#1f2328}
.bar.o-abandoned{background:repeating-linear-gradient(135deg,var(--c) 0 5px,#80868b 5px 10px)}
.bar.critical{box-shadow:0 0 0 2px var(--critical),inset -1px 0 rgba(255,255,255,.6);z-index:1}
.bar.same{box-shadow:0 0 0 2px #1f2328;z-index:2}
.focus .bar:not(.critical){opacity:.22}
.focus .life{opacity:.4}
#tip{position:fixed;z-index:10;pointer-events:none;background:#1f2328;color:#f0f3f6;border-radius:8px;padding:9px 12px;font-size:12px;line-height:1.5;max-width:420px;box-shadow:0 6px 24px rgba(0,0,0,.25)}
#tip[hidden]{display:none}
#tip .t{font:600 13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
#tip .o{display:inline-block;margin:2px 0 4px;padding:0 7px;border-radius:999px;background:var(--c);color:#fff;font-weight:600}
#tip table{border-collapse:collapse}
#tip th{text-align:left;font-weight:400;color:#9aa4ae;padding:0 10px 0 0;vertical-align:top;white-space:nowrap}
#tip td{padding:0;word-break:break-word}
#tip .e{margin-top:5px;color:#ffb4ab;word-break:break-word;white-space:pre-wrap}
#tip .c{margin-top:4px;color:var(--critical);font-weight:600}
${outcomeRules}
`;
