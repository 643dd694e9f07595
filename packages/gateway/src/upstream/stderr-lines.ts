import type { Readable } from 'node:stream';

/** Longest stderr line passed on; a process writing megabytes without a newline must not fill memory. */
export const MAX_LINE_CHARS = 4096;

/**
 * Calls `line` for each line `stream` carries (without its end of line), cutting lines longer
 * than {@link MAX_LINE_CHARS} (marked with `…`) and dropping the rest of such a line.
 */
export function forEachLine(stream: Readable, line: (text: string) => void): void {
  let pending = '';
  let cut = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      if (!cut) emit(pending + chunk.slice(start, nl));
      pending = '';
      cut = false;
      start = nl + 1;
    }
    if (cut) return;
    pending += chunk.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      emit(`${pending.slice(0, MAX_LINE_CHARS)}…`);
      pending = '';
      cut = true;
    }
  });
  stream.on('end', () => {
    if (pending !== '' && !cut) emit(pending);
    pending = '';
  });
  // A broken pipe on the way out of a dying process is no news: its exit is reported elsewhere.
  stream.on('error', () => {});

  function emit(text: string) {
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed !== '') line(trimmed);
  }
}
