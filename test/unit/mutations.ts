/** The fuzz inputs shared by the core's robustness test and the language server's: seeded, so a failure replays. */
import { mulberry32 } from '../../src/core/train/random';

const ALPHABET = "()[]{},.:=+-*/%#'\"\\\n \t0123456789abcdefxyzNone_ConvDense§é😀";

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (out.length + 1));
    const kind = random();
    if (kind < 0.35) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 3));
    else if (kind < 0.7) out = out.slice(0, at) + ALPHABET[Math.floor(random() * ALPHABET.length)] + out.slice(at);
    else if (kind < 0.9) out = out.slice(0, at) + ALPHABET[Math.floor(random() * ALPHABET.length)] + out.slice(at + 1);
    else {
      const len = Math.floor(random() * 40);
      const from = Math.floor(random() * out.length);
      out = out.slice(0, at) + out.slice(from, from + len) + out.slice(at);
    }
  }
  return out;
}

/** 1,000 mutations of a fixture, the same every run. */
export function mutations(original: string, file: string, count = 1000): string[] {
  const random = mulberry32(0xc0ffee ^ file.length);
  return Array.from({ length: count }, () => mutate(original, random));
}
