// Retrying assertions: tests wait on conditions, never on fixed sleeps.

/**
 * Runs fn (which asserts) until it passes; at the deadline rethrows its
 * last failure, so the report shows what was expected and what was seen.
 */
export async function eventually(fn, { timeout = 10000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
