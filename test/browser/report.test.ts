/**
 * The HTML report in a real browser: a run of a build-like job (two pools, dependencies, a retried task,
 * a task that fails for good and the tasks it blocks) is traced with the built package, its report is
 * written to a file and opened in Debian's Chromium (/usr/bin/chromium) through playwright-core. Every
 * request that is not file:// is blocked, and none may be attempted: the page is self-contained. The test
 * checks what the page draws against the trace, then saves a screenshot to test-output/report.png.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { Job, start, TraceRecorder, type ChromeTrace, type ComputeProvider } from "../../dist/index.js";
import { criticalPath, htmlReport, summarize } from "../../dist/report.js";
import { virtualRuntime } from "../../dist/testing.js";
import { slotProvider } from "../trace-helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = fileURLToPath(new URL("../../test-output/", import.meta.url));
/** A task id that would inject markup if the page did not escape it. */
const HOSTILE = '</script><b id="pwned">x</b>';

/** In the page: whether the details box shows `text` (the tests' tsconfig has no DOM types, hence `any`). */
const tipShows = (text: string): boolean => Boolean((globalThis as any).document.getElementById("tip")?.textContent?.includes(text));

/** Runs `job` under the virtual clock with a recorder hearing every event; the dependencies come from `deps`. */
async function traced(job: Job<Record<string, unknown>>, deps: Map<string, string[]>, pools: Record<string, ComputeProvider>): Promise<ChromeTrace> {
  const recorder = new TraceRecorder(job.name, (id) => deps.get(id) ?? []);
  for await (const event of start(job, { runtime: virtualRuntime(), pools })) recorder.record(event);
  return recorder.finish();
}

/** 30 tasks: checkout, compiles, unit tests, GPU renders, a flaky upload (retried once), "test-ui-3" fails for good. */
function buildJob(): { job: Job<Record<string, unknown>>; deps: Map<string, string[]> } {
  const job = new Job<Record<string, unknown>>("release-build");
  const deps = new Map<string, string[]>();
  const add = (id: string, ms: number, dependsOn: string[], extra: { pool?: string; fails?: number; retries?: number } = {}) => {
    deps.set(id, dependsOn);
    job.task(
      id,
      { dependsOn, retries: extra.retries ?? 0, backoff: { initialMs: 40 }, ...(extra.pool ? { pool: extra.pool } : {}) },
      async ({ sleep, attempt }) => {
        await sleep(ms);
        if (attempt <= (extra.fails ?? 0)) throw new Error(`${id}: expected 200 rows, got 197 (attempt ${attempt})`);
        return id;
      },
    );
  };
  add("checkout", 120, []);
  add("lint", 260, ["checkout"]);
  add("fetch-assets", 340, ["checkout"]);
  for (const part of ["core", "ui", "cli"]) add(`compile-${part}`, part === "core" ? 520 : 380, ["checkout"]);
  for (let k = 1; k <= 6; k++) add(`test-core-${k}`, 150 + k * 45, ["compile-core"]);
  for (let k = 1; k <= 4; k++) add(`test-ui-${k}`, 180 + k * 30, ["compile-ui"], k === 3 ? { fails: 9 } : {});
  for (let k = 1; k <= 4; k++) add(`render-${k}`, 300 + k * 60, ["fetch-assets"], { pool: "gpu" });
  add("ui-coverage", 90, ["test-ui-1", "test-ui-2", "test-ui-3", "test-ui-4"]);
  add("core-coverage", 110, ["test-core-1", "test-core-2", "test-core-3", "test-core-4", "test-core-5", "test-core-6"]);
  add("atlas", 420, ["render-1", "render-2", "render-3", "render-4"], { pool: "gpu" });
  add("package", 300, ["compile-core", "compile-cli", "atlas"]);
  add("upload", 200, ["package"], { fails: 1, retries: 2 });
  add("checksums", 60, ["package"]);
  add(HOSTILE, 80, ["checkout"]);
  add("docs", 240, ["compile-core"]);
  add("changelog", 70, ["lint"]);
  add("announce", 50, ["upload", "checksums", "docs", "changelog", "core-coverage"]);
  return { job, deps };
}

/** 10,000 instant tasks in layers of 100, each depending on one of the layer before. */
function wideJob(): { job: Job<Record<string, unknown>>; deps: Map<string, string[]> } {
  const job = new Job<Record<string, unknown>>("wide");
  const deps = new Map<string, string[]>();
  for (let k = 0; k < 10_000; k++) {
    const dependsOn = k < 100 ? [] : [`t${(Math.floor(k / 100) - 1) * 100 + ((k * 37) % 100)}`];
    deps.set(`t${k}`, dependsOn);
    job.task(`t${k}`, { dependsOn }, async ({ sleep }) => sleep(1 + (k % 5)));
  }
  return { job, deps };
}

describe("the HTML report in Chromium", () => {
  let context: BrowserContext;
  const temp = mkdtempSync(join(tmpdir(), "flotilla-report-"));
  /** Every URL the page asked for that was not a file. */
  const blocked: string[] = [];

  before(async () => {
    context = await chromium.launchPersistentContext(join(temp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1480, height: 1000 },
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file://")) return route.continue();
      blocked.push(url);
      return route.abort();
    });
  });

  after(async () => {
    await context?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  /** Opens `html` from a file; fails the test on any script error in the page. */
  async function open(html: string, name: string): Promise<{ page: Page; errors: string[] }> {
    const file = join(temp, name);
    writeFileSync(file, html);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith("file://")) blocked.push(request.url());
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector(".bar");
    return { page, errors };
  }

  it("draws every attempt, the critical path, the failure and the summary, and loads nothing", async () => {
    const { job, deps } = buildJob();
    const trace = await traced(job, deps, { default: slotProvider("cpu", 2, 3), gpu: slotProvider("gpu", 1, 2) });
    const summary = summarize(trace);
    const path = criticalPath(trace);
    assert.equal(summary.tasks.total, 30);
    assert.equal(summary.tasks.failed, 1);

    const { page, errors } = await open(htmlReport(trace, { title: "release-build: nightly" }), "report.html");
    const attempts = trace.traceEvents.filter((e) => e.ph === "X" && e.cat === "attempt");
    assert.equal(await page.locator(".bar[data-task]").count(), attempts.length);

    // The critical path's bars are exactly its tasks' attempts.
    const critical = await page.locator(".bar.critical").evaluateAll((els) => els.map((el) => el.getAttribute("data-task")));
    assert.deepEqual(new Set(critical), new Set(path.tasks));
    assert.ok(path.tasks.length >= 3, `a path of several tasks, got ${path.tasks.join(" -> ")}`);
    assert.equal(path.tasks[0], "checkout");

    // The task that failed for good: its last attempt is a red bar.
    const failed = page.locator('.bar[data-task="test-ui-3"][data-outcome="failed"]');
    assert.equal(await failed.count(), 1);
    assert.equal(await failed.evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor), "rgb(217, 48, 37)");

    // Details on hover: task, attempt, node, timing, error.
    await failed.hover();
    const tip = page.locator("#tip");
    await tip.waitFor({ state: "visible" });
    const text = (await tip.textContent()) ?? "";
    for (const part of ["test-ui-3", "attempt 1 · failed", "cpu-", "duration", "expected 200 rows, got 197"])
      assert.ok(text.includes(part), `tooltip lacks "${part}": ${text}`);
    const upload = page.locator('.bar[data-task="upload"][data-attempt="2"]');
    await upload.hover();
    await page.waitForFunction(tipShows, "attempt 2");
    assert.match((await tip.textContent()) ?? "", /upload[\s\S]*attempt 2 · succeeded[\s\S]*on the critical path/);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, "report-details.png") });

    // The summary's hooks agree with summarize().
    const hooks = await page.locator("#summary").evaluate((el) => ({ ...(el as any).dataset }));
    assert.deepEqual(hooks, {
      tasks: String(summary.tasks.total),
      attempts: String(summary.attempts.total),
      succeeded: String(summary.tasks.succeeded),
      failed: "1",
      cancelled: "0",
      skipped: String(summary.tasks.skipped),
      status: "failed",
      makespanMs: String(summary.makespanMs),
      criticalTasks: String(path.tasks.length),
    });
    assert.ok(summary.tasks.skipped >= 1);
    assert.match((await page.locator("#failed-tasks").textContent()) ?? "", /test-ui-3[\s\S]*expected 200 rows/);

    // Focus dims everything off the critical path; zoom widens the plot.
    await page.locator("#focus-critical").check();
    assert.equal(await page.locator('.bar[data-task="lint"]').evaluate((el) => (globalThis as any).getComputedStyle(el).opacity), "0.22");
    assert.equal(await page.locator('.bar[data-task="checkout"]').evaluate((el) => (globalThis as any).getComputedStyle(el).opacity), "1");
    await page.locator("#focus-critical").uncheck();
    const plotWidth = () => page.locator(".plot").evaluate((el) => el.getBoundingClientRect().width);
    const fitted = await plotWidth();
    await page.locator('button[data-zoom="in"]').click();
    assert.equal(Math.round(await plotWidth()), Math.round(fitted * 2));
    await page.locator('button[data-zoom="fit"]').click();
    assert.equal(await plotWidth(), fitted);

    // A hostile task id is text: its bar exists with the id as is, and no element was injected.
    assert.equal(await page.locator(".bar").filter({ hasText: "pwned" }).count(), 1);
    assert.equal(await page.locator("#pwned").count(), 0);

    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(OUTPUT, "report.png"), fullPage: true });
    assert.deepEqual(blocked, [], "the page asked for something that is not a file");
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("renders a run of 10,000 attempts and still answers a hover", async () => {
    const { job, deps } = wideJob();
    const trace = await traced(job, deps, { default: slotProvider("cpu", 8, 16) });
    const { page, errors } = await open(htmlReport(trace), "wide.html");
    assert.equal(await page.locator(".bar[data-task]").count(), 10_000);
    await page.locator('.bar[data-task="t9999"]').hover();
    await page.waitForFunction(tipShows, "t9999");
    await page.screenshot({ path: join(OUTPUT, "report-10k.png") });
    assert.deepEqual(blocked, [], "the page asked for something that is not a file");
    assert.deepEqual(errors, []);
    await page.close();
  });
});
