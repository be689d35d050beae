/**
 * Writing a provider of your own with flotilla/provider-kit: "render farm" nodes that each run two
 * frames at once. The provider writes only what is its own (how a frame renders, how it is told to
 * stop, how it is killed); the kit gives it the "not my node" guard, the abort-then-grace escalation,
 * the settle-once outcome, and node errors worded like every flotilla adapter's. It declares its own
 * error code, still a FlotillaError. A frame that ignores the stop request is killed after the grace.
 */
import { FlotillaError, Job, declareErrorCodes, errorCodes, start, type ComputeProvider, type ProviderNode, type TaskSpec } from "flotilla";
import { AbortGrace, Outcome, StartedNodes } from "flotilla/provider-kit";

const CODES = declareErrorCodes("render-farm-example", { E_FRAME_KILLED: "a frame did not stop when asked and was killed" });

/** A body of this provider's kind: render `frame`, taking `ms`; a `stubborn` frame ignores stop requests. */
interface Frame extends TaskSpec<string> {
  readonly kind: "frame";
  readonly frame: number;
  readonly ms: number;
  readonly stubborn?: boolean;
}
const frame = (n: number, ms: number, stubborn = false): Frame => ({ kind: "frame", frame: n, ms, stubborn }) as Frame;

interface FarmNode extends ProviderNode {
  readonly rendering: Set<ReturnType<typeof setTimeout>>;
}

function renderFarm(graceMs: number): ComputeProvider<Frame> {
  const nodes = new StartedNodes<FarmNode>("render-farm");
  let started = 0;
  return {
    name: "render-farm",
    kinds: ["frame"],
    maxNodes: 2,
    startNode: () => nodes.add({ id: `farm-${++started}`, slots: 2, rendering: new Set() }),
    stopNode: (node) => {
      for (const timer of nodes.markStopped(node)?.rendering ?? []) clearTimeout(timer);
    },
    // `nodes.run` refuses a node this provider did not start, or one already stopped.
    run: (node, spec, ctx) =>
      nodes.run(node, ctx, (farm) => {
        const outcome = new Outcome<string>();
        const done = setTimeout(() => outcome.resolve(`frame ${spec.frame} on ${farm.id}`), spec.ms);
        farm.rendering.add(done);
        const grace = new AbortGrace({
          graceMs,
          stop: (reason) => {
            if (spec.stubborn) return; // asked to stop, it renders on: the grace runs out
            clearTimeout(done);
            outcome.reject(reason);
          },
          escalate: () => {
            clearTimeout(done);
            ctx.log(`frame ${spec.frame} ignored the stop request and was killed after ${graceMs} ms`);
            outcome.reject(new FlotillaError(CODES.E_FRAME_KILLED, `frame ${spec.frame} did not stop within ${graceMs} ms and was killed`));
          },
        }).watch(ctx);
        outcome.onSettle(() => {
          farm.rendering.delete(done);
          grace.release();
        });
        return outcome.promise;
      }),
  };
}

const job = new Job<Record<string, string | number>>("film");
for (let i = 1; i <= 6; i++) job.task(`frame-${i}`, { pool: "farm" }, frame(i, 20 + i * 5));
job.task("long-shot", { pool: "farm", timeoutMs: 40 }, frame(7, 5_000, true)); // times out, ignores the stop
job.task("encode", { dependsOn: ["frame-1", "frame-2", "frame-3", "frame-4", "frame-5", "frame-6"] }, ({ deps }) => Object.keys(deps).length);

const handle = start(job, { pools: { farm: renderFarm(30) }, cancelGraceMs: 1_000 });
handle.on("task:output", (e) => console.log(`[${e.taskId}] ${e.line}`));
const result = await handle.result;
console.log(`status: ${result.status}`);
console.log(`encode: ${result.tasks.get("encode")?.output} frames`);
console.log(`frame-3: ${String(result.tasks.get("frame-3")?.output).replace(/farm-\d/, "farm-N")}`);
const longShot = result.tasks.get("long-shot")!;
console.log(`long-shot: ${longShot.status} with ${(longShot.error as FlotillaError).code} (its attempt's outcome was decided by the timeout)`);
console.log(`declared by ${errorCodes().get(CODES.E_FRAME_KILLED)?.owner}: ${CODES.E_FRAME_KILLED}`);
