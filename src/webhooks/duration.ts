/** Durations in the notation Go's time.ParseDuration reads ("8760h", "90m", "1h30m", "2.5s", "500ms"). */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go-style duration; throws on anything else (a bare number has no unit, so it is refused too). */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (s === '' || end !== s.length) throw new Error(`"${text}" is not a duration (for example 8760h, 90m, 1h30m, 10s)`);
  return total;
}
