/**
 * How a live island keeps current: while the page is visible, `tick` every
 * `every()` ms; as soon as the page comes back into view, `wake`; nothing while
 * it is hidden, once `done()` says so, or after the returned stop is called
 * (an effect's cleanup).
 */
export function pollWhileVisible(
  { every, tick, wake, done = () => false }: {
    every: () => number;
    tick: () => Promise<void>;
    wake: () => Promise<void>;
    done?: () => boolean;
  },
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const next = () => {
    clearTimeout(timer);
    if (stopped || done() || document.visibilityState !== "visible") return;
    timer = setTimeout(() => tick().then(next), every());
  };
  const onVisibility = () => {
    if (document.visibilityState === "visible") wake().then(next);
    else clearTimeout(timer);
  };
  document.addEventListener("visibilitychange", onVisibility);
  next();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}
