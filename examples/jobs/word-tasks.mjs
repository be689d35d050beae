// The worker tasks of word-count.json: each export is called in a worker thread as fn(input, ctx), where
// ctx.deps holds the outputs of the task's dependencies (here, fetch's stdout as text).

/** Words of at least `minLength` letters: how many, and how many distinct. */
export function countWords({ minLength }, { deps }) {
  const words = deps.fetch.split(/\s+/).filter((word) => word.length >= minLength);
  return { words: words.length, distinct: new Set(words).size };
}

/** The longest word (the first of that length). */
export function longestWord(_input, { deps }) {
  return deps.fetch.split(/\s+/).reduce((longest, word) => (word.length > longest.length ? word : longest), "");
}
