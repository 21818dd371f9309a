/** Progress lines on stderr: rewritten in place on a TTY, throttled lines otherwise. */
export interface Progress {
  update(text: string): void;
  done(text?: string): void;
}

/** Where progress goes instead of stderr (a queue job reports it to its submitter); null: stderr. */
export type ProgressSink = (line: string) => void;
let sink: ProgressSink | null = null;

/** Send every later progress line of this thread to `s` (throttled like a non-TTY), or back to stderr. */
export function setProgressSink(s: ProgressSink | null): void {
  sink = s;
}

export function makeProgress(label: string, enabled = true, intervalMs = 2000): Progress {
  if (sink) {
    const to = sink;
    let last = 0;
    return {
      update(text: string) {
        const now = Date.now();
        if (!enabled || now - last < intervalMs) return;
        last = now;
        to(`[${label}] ${text}`);
      },
      done(text?: string) {
        if (enabled && text) to(`[${label}] ${text}`);
      },
    };
  }
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let pending = false;
  return {
    update(text: string) {
      if (!enabled) return;
      const now = Date.now();
      if (tty) {
        if (now - last < 100) return;
        process.stderr.write(`\r\x1b[2K[${label}] ${text}`);
        pending = true;
      } else {
        if (now - last < intervalMs) return;
        process.stderr.write(`[${label}] ${text}\n`);
      }
      last = now;
    },
    done(text?: string) {
      if (!enabled) return;
      if (tty && pending) process.stderr.write('\r\x1b[2K');
      pending = false;
      if (text) process.stderr.write(`[${label}] ${text}\n`);
    },
  };
}
