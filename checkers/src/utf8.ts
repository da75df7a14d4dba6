/**
 * Strict UTF-8: scenario files and histories are text, and a byte that is not
 * UTF-8 means the wrong file or a damaged one. TextDecoder's fatal mode says
 * whether; this says where, for the error message.
 */

const strict = new TextDecoder('utf-8', {fatal: true});

/** The text, or undefined if the bytes are not UTF-8 throughout. A leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Offset of the first byte that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points past U+10FFFF included, as
 * TextDecoder rejects them), or -1. A sequence cut off by the end is invalid.
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let size: number;
    let low = 0x80;
    let high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) size = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      size = 3;
      if (c === 0xe0) low = 0xa0;
      else if (c === 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      size = 4;
      if (c === 0xf0) low = 0x90;
      else if (c === 0xf4) high = 0x8f;
    } else return i;
    if (i + size > bytes.length) return i;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < size; k++) {
      const next = bytes[i + k]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += size;
  }
  return -1;
}

/** Line and column (both from 1; the column counts bytes) of a byte offset. */
export function bytePosition(bytes: Uint8Array, offset: number): {line: number; column: number} {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return {line, column: offset - lineStart + 1};
}
