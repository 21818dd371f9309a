/** Progress lines on stderr: rewritten in place on a TTY, throttled lines otherwise. */
export interface Progress {
  update(text: string): void;
  done(text?: string): void;
}

export function makeProgress(label: string, enabled = true, intervalMs = 2000): Progress {
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
