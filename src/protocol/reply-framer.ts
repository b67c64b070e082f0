/**
 * Finds where one RESP2/RESP3 reply ends without decoding it, so a proxy can
 * pass replies through byte for byte. Pure: no I/O.
 */
const CR = 13;

/** The end (exclusive) of the reply starting at pos, or -1 if buf does not hold all of it yet. */
export function replyEnd(buf: Buffer, pos: number): number {
  // Aggregates are walked with an explicit count of items still expected, so a
  // deeply nested reply cannot overflow the stack.
  let pending = 1;
  let p = pos;
  while (pending > 0) {
    if (p >= buf.length) return -1;
    const type = buf[p]!;
    const cr = buf.indexOf(CR, p + 1);
    if (cr < 0 || cr + 1 >= buf.length) return -1;
    const next = cr + 2;
    pending--;
    switch (type) {
      case 36: // $ bulk
      case 61: // = verbatim
      case 33: { // ! bulk error
        const n = Number(buf.latin1Slice(p + 1, cr));
        if (n < 0) {
          p = next;
          break;
        }
        if (next + n + 2 > buf.length) return -1;
        p = next + n + 2;
        break;
      }
      case 42: // * array
      case 126: // ~ set
      case 62: { // > push
        const n = Number(buf.latin1Slice(p + 1, cr));
        if (n > 0) pending += n;
        p = next;
        break;
      }
      case 37: // % map
      case 124: { // | attribute: its pairs come before the reply they describe
        const n = Number(buf.latin1Slice(p + 1, cr));
        pending += 2 * n + (type === 124 ? 1 : 0);
        p = next;
        break;
      }
      default: // + - : , # _ ( simple types: one line
        p = next;
    }
  }
  return p;
}
