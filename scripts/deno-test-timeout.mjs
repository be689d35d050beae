/**
 * Loaded by `deno test --preload`: a per-test timeout under Deno, like `node --test --test-timeout` under
 * Node. Deno has no flag for one: Deno.test's own `timeout` option covers a top-level test only (a describe
 * block as a whole), and node:test's `{ timeout }` needs every test to ask for it. So this wraps Deno.test,
 * which node:test's describe/it/test call, and each test context's `t.step`, which runs the tests inside a
 * describe. A test's clock stops while one of its steps runs: only the time a test or step spends on its
 * own counts, so a describe block of many quick tests is never cut off as a whole.
 *
 * It catches a test whose promise never settles (the common hang: a missed signal, a lost message). A
 * synchronous endless loop blocks this timer too; the stage timeout in scripts/test-all.mjs catches that.
 *
 * FLOTILLA_TEST_TIMEOUT_MS sets the limit (default 60000; read with --allow-env).
 */
const limitMs = Number(Deno.env.get("FLOTILLA_TEST_TIMEOUT_MS") || 60_000);
const ownUrl = import.meta.url;
// Deno.test reports this "file:line:column" as the test's location instead of its caller, which would be
// the wrapper below.
const LOCATION = Symbol.for("Deno.test.location");

/** A test or step body that rejects once it has run `limitMs` on its own without settling. */
function guard(name, fn) {
  return function guarded(t) {
    return new Promise((resolve, reject) => {
      let timer;
      let stepsRunning = 0;
      let settled = false;
      const settle = (finish) => (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        finish(value);
      };
      const arm = () => {
        timer = setTimeout(
          settle(reject),
          limitMs,
          new Error(`test "${name}" did not finish within ${limitMs} ms (per-test timeout, FLOTILLA_TEST_TIMEOUT_MS)`),
        );
      };
      if (t && typeof t.step === "function") {
        const step = t.step;
        t.step = function (...args) {
          if (stepsRunning++ === 0) clearTimeout(timer);
          // Called from a fresh microtask through a bound function, so no frame of this file is on the stack
          // and Deno does not report this file as the step's location.
          const result = Promise.resolve().then(step.bind(this, ...guardArgs(args)));
          const done = () => {
            if (--stepsRunning === 0 && !settled) arm();
          };
          result.then(done, done);
          return result;
        };
      }
      arm();
      try {
        Promise.resolve(fn.call(this, t)).then(settle(resolve), settle(reject));
      } catch (error) {
        settle(reject)(error);
      }
    });
  };
}

/** Deno.test and t.step take (options), (name, fn), (name, options, fn), (fn) or (options, fn). */
function guardArgs(args) {
  const out = [...args];
  const fnIndex = out.findIndex((a) => typeof a === "function");
  const optionsIndex = out.findIndex((a) => a !== null && typeof a === "object");
  const options = out[optionsIndex];
  const name = typeof out[0] === "string" ? out[0] : (options?.name ?? out[fnIndex]?.name ?? "(anonymous)");
  if (fnIndex >= 0) out[fnIndex] = guard(name, out[fnIndex]);
  else if (typeof options?.fn === "function") out[optionsIndex] = { ...options, fn: guard(name, options.fn) };
  return out;
}

/** The first "file:line:column" on the stack outside this file: where the test was declared. */
function callerLocation() {
  for (const match of (new Error().stack ?? "").matchAll(/(file:\/\/[^\s()]+):(\d+):(\d+)/g)) {
    if (match[1] !== ownUrl) return `${match[1]}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

function withLocation(args) {
  const out = guardArgs(args);
  const location = callerLocation();
  if (location) {
    const fn = out.find((a) => typeof a === "function") ?? out.find((a) => typeof a?.fn === "function")?.fn;
    if (fn) fn[LOCATION] = location;
  }
  return out;
}

const test = Deno.test;
const wrapped = function (...args) {
  return test.apply(this, withLocation(args));
};
Object.assign(wrapped, test, {
  only(...args) {
    return test.only.apply(this, withLocation(args));
  },
});
Deno.test = wrapped;
