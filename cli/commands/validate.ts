/** `flotilla validate FILE`: load and check a job file without running it. */
import { EXIT } from "../exit-codes.ts";
import { stdout } from "../io.ts";
import { validateJobFile } from "../load.ts";

export async function validate(file: string): Promise<number> {
  const { tasks, pools } = await validateJobFile(file);
  stdout.write(`✓ ${file} is valid: ${tasks} task${tasks === 1 ? "" : "s"}${pools.length === 0 ? "" : `, pools ${pools.join(", ")}`}\n`);
  return EXIT.succeeded;
}
