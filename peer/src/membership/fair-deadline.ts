/**
 * Deadlines that do not blame the other side for this process's own stalls
 * (fairDelay): the probe's, and the TCP exchange's.
 */
/** How many times a deadline is moved on because this process was not running when it fell due. */
export const MAX_DEADLINE_EXTENSIONS = 3;

/**
 * A deadline judged fairly to the other side: a probe's, a push-pull's. Two
 * things can make it pass while the answer is already here:
 *
 * - Node runs due timers before it reads the sockets, so after any stall the
 *   timeout fires first and the ack waiting in the socket is read after the
 *   verdict. The deadline settles only once the sockets have been read
 *   (setImmediate runs after the poll phase).
 * - A timer that fires late says this process was not running: busy, or
 *   descheduled among hundreds of members on a few cores. The target, most
 *   likely starved by the same machine, had no fair window to answer in. When
 *   the timer fires more than half its length late, the window starts again,
 *   up to MAX_DEADLINE_EXTENSIONS times.
 *
 * Accusing others for its own slowness is how a starved group turns into a
 * storm of suspicions and refutations (Lifeguard's observation); a slow prober
 * now probes more slowly instead, and a member that is really gone is still
 * found once the prober runs on time.
 *
 * The same holds for a full-state exchange: a newcomer in a process of fifty
 * merging a 2,000-member answer each found the 10 s deadline of its own join
 * passed with the answer waiting unread.
 *
 * Cancelling clears the timer: a probe acked in time leaves no wake-up behind.
 */
export function fairDelay(ms: number, now: () => number = () => performance.now()): {promise: Promise<void>; cancel(): void} {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let cancelled = false;
  const promise = new Promise<void>((resolve) => {
    const arm = (extensions: number) => {
      const due = now() + ms;
      timer = setTimeout(() => {
        if (cancelled) return;
        const late = now() - due;
        if (late > ms / 2 && extensions < MAX_DEADLINE_EXTENSIONS) return arm(extensions + 1);
        immediate = setImmediate(() => {
          if (!cancelled) resolve();
        });
      }, ms);
    };
    arm(0);
  });
  return {
    promise,
    cancel: () => {
      cancelled = true;
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
