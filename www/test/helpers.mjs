// Shared by the Node tests: a clock the test moves, and a short wait for microtask delivery.
export function fakeClock(start = 1_767_225_600_000) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

export const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));
