/** The live view's text: a few lines drawn from the tally, redrawn in place by live.ts. */
import { bar, clip, formatDuration } from "../format.ts";
import type { RunTally } from "./tally.ts";

const BAR_WIDTH = 24;

/** The frame for `tally` at time `now` (the run's clock), each line cut to `width` columns. */
export function renderFrame(tally: RunTally, now: number, width: number): string {
  const { counts, total } = tally;
  const done = tally.done;
  const fraction = total === 0 ? 0 : done / total;
  const lines = [`${tally.job}  ${bar(fraction, BAR_WIDTH)}  ${done}/${total}  ${Math.floor(fraction * 100)}%`];
  const tallies = [
    `✓ ${counts.succeeded} done`,
    `▶ ${counts.running} running`,
    `… ${tally.queued} queued`,
    `✗ ${counts.failed} failed`,
    `- ${counts.skipped} skipped`,
  ];
  if (counts.cancelled > 0) tallies.push(`⊘ ${counts.cancelled} cancelled`);
  lines.push(tallies.join("  "));
  if (tally.nodes.size > 0) lines.push(`nodes    ${[...tally.nodes].map(([pool, up]) => `${pool} ${up.size}`).join(" · ")}`);
  if (tally.running.size > 0) lines.push(`running  ${[...tally.running].join(", ")}`);
  const elapsed = tally.startedAt === undefined ? 0 : now - tally.startedAt;
  const eta = tally.etaMs();
  lines.push(`${formatDuration(elapsed)} elapsed · ETA ${eta === undefined ? "—" : formatDuration(eta)}`);
  return lines.map((line) => clip(line, width)).join("\n");
}
