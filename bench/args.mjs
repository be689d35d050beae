// Command-line flags of the bench scripts: `--name value` pairs and bare switches.
const args = process.argv.slice(2);

/** Whether a bare switch (`--quick`) was given. */
export const has = (name) => args.includes(`--${name}`);

/** The value after `--name`, or `fallback`. */
export const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};

/** A numeric flag: a positive number (Infinity allowed), or the run stops with a message naming it. */
export const count = (name, fallback) => {
  const value = Number(flag(name, fallback));
  if (!(value > 0)) throw new Error(`--${name} must be a positive number, received ${JSON.stringify(flag(name, fallback))}`);
  return value;
};
