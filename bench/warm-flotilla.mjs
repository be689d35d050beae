// flotilla's contestants for bench/warm.mjs: the build through the public builder, and build + run.
// warm.mjs imports this module once per flotilla build under test, each time with its own query
// string, so each build gets its own copy of these functions: call sites shared between two builds'
// classes would turn polymorphic and slow one of them down.

/** `build()` builds the job; `full()` builds and runs it, checking that every task succeeded. */
export function contestant({ Job, run }, spec, body, concurrency, ran) {
  const { ids, deps } = spec;
  const n = ids.length;
  const build = () => {
    const job = new Job("bench");
    for (let i = 0; i < n; i++) {
      if (deps[i].length === 0) job.task(ids[i], body);
      else job.task(ids[i], { dependsOn: deps[i] }, body);
    }
    return job;
  };
  const full = async () => {
    ran.count = 0;
    const result = await run(build(), { concurrency });
    if (result.status !== "succeeded" || result.counts.succeeded !== n || ran.count !== n) {
      throw new Error(`flotilla: status ${result.status}, ${ran.count} bodies ran, error ${result.error?.stack ?? result.error}`);
    }
    return result;
  };
  return { build, full };
}
