/**
 * The one policy for human text: names, reasons, notice subjects and bodies,
 * versions, search words. Every schema that takes such text goes through
 * `textField`, so every field is normalized and refused the same way:
 *
 * - Unicode NFC, so the same word is stored one way whatever keyboard typed it;
 * - tabs become spaces; in fields that allow several lines, CR LF, CR and the
 *   Unicode line separators become "\n"; in one-line fields any line break is
 *   refused;
 * - no other control characters, no bidirectional controls (embeddings,
 *   overrides, isolates and the marks U+200E, U+200F, U+061C: they make text
 *   read differently from what is stored), no invisible characters that let
 *   two names look the same while differing (zero-width space, word joiner,
 *   byte order mark, soft hyphen, Hangul fillers), no unpaired UTF-16
 *   surrogates;
 * - length counted in characters a person sees (grapheme clusters), with a
 *   byte bound beneath it so no field can outgrow a KV value.
 *
 * Islands may import this module: it has no dependency but zod.
 */
import { z } from "zod";

export interface TextRules {
  /** Most characters a person sees. */
  max: number;
  /** Fewest characters after trimming (1 means "must not be empty"). */
  min?: number;
  /** Whether line breaks are allowed (stored as "\n"). */
  multiline?: boolean;
}

export type TextCheck = { ok: true; value: string } | {
  ok: false;
  problem: string;
};

/** A character may carry a few marks (accents, vowel signs, emoji joiners), not a pile. */
export const MAX_CODE_POINTS_PER_CHARACTER = 32;
/**
 * The byte bound under the character bound: 8 UTF-8 bytes a character on
 * average, and never less than 1 KiB, so a short field may still be all emoji.
 */
export const BYTES_PER_CHARACTER = 8;
const MIN_BYTES = 1024;

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/u;
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/**
 * Characters that show nothing. The zero-width joiner and non-joiner stay:
 * emoji sequences and several scripts need them.
 */
const INVISIBLE =
  /[\u00ad\u034f\u115f\u1160\u180e\u200b\u2060-\u2064\u3164\ufeff\uffa0]/u;
const LINE_BREAK = /\r\n?|[\n\u2028\u2029]/g;

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
const encoder = new TextEncoder();

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** How many characters a person sees in `s`. */
export function visibleLength(s: string): number {
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

/** Normalizes and checks one value against the policy. */
export function checkText(raw: string, rules: TextRules): TextCheck {
  if (!raw.isWellFormed()) {
    return {
      ok: false,
      problem:
        "contains a broken character (an unpaired UTF-16 surrogate); retype it",
    };
  }
  let s = raw.normalize("NFC").replaceAll("\t", " ");
  const breaks = s.match(LINE_BREAK);
  if (breaks) {
    if (!rules.multiline) {
      return { ok: false, problem: "must be a single line (no line breaks)" };
    }
    s = s.replace(LINE_BREAK, "\n");
  }
  s = s.trim();
  const control = s.match(CONTROL);
  if (control && control[0] !== "\n") {
    return {
      ok: false,
      problem: `must not contain control characters (found ${
        codePoint(control[0])
      })`,
    };
  }
  const bidi = s.match(BIDI_CONTROL);
  if (bidi) {
    return {
      ok: false,
      problem:
        `must not contain right-to-left overrides or other bidirectional controls (found ${
          codePoint(bidi[0])
        })`,
    };
  }
  const invisible = s.match(INVISIBLE);
  if (invisible) {
    return {
      ok: false,
      problem:
        `must not contain invisible characters such as zero-width spaces (found ${
          codePoint(invisible[0])
        })`,
    };
  }
  let length = 0;
  for (const { segment } of segmenter.segment(s)) {
    length++;
    if ([...segment].length > MAX_CODE_POINTS_PER_CHARACTER) {
      return {
        ok: false,
        problem: "has a character stacked with too many accents or marks",
      };
    }
  }
  if (length > rules.max) {
    return {
      ok: false,
      problem: `must be at most ${plural(rules.max, "character")} (got ${
        length.toLocaleString("en-US")
      })`,
    };
  }
  const min = rules.min ?? 0;
  if (length < min) {
    return {
      ok: false,
      problem: min === 1
        ? "must not be empty"
        : `must be at least ${plural(min, "character")}`,
    };
  }
  const maxBytes = Math.max(rules.max * BYTES_PER_CHARACTER, MIN_BYTES);
  if (encoder.encode(s).length > maxBytes) {
    return {
      ok: false,
      problem: `is too large: at most ${
        maxBytes.toLocaleString("en-US")
      } bytes of text`,
    };
  }
  return { ok: true, value: s };
}

/** A zod string that follows the policy; its output is the normalized text. */
export function textField(rules: TextRules) {
  return z.string().transform((raw, ctx) => {
    const r = checkText(raw, rules);
    if (r.ok) return r.value;
    ctx.addIssue({ code: "custom", message: r.problem });
    return z.NEVER;
  });
}

// deno-lint-ignore no-control-regex
const ANY_CONTROL_RUN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\s]+/gu;
const UNSEEN_FORMATTING = new RegExp(
  `${BIDI_CONTROL.source}|${INVISIBLE.source}`,
  "gu",
);

/**
 * Text for a place that holds one line (a push title, a mail header, a
 * sentence of a plain-text email): whatever was stored, line breaks and
 * other control characters become single spaces; bidi controls and
 * invisible characters go.
 */
export function oneLine(s: string): string {
  return s.toWellFormed().replace(UNSEEN_FORMATTING, "")
    .replace(ANY_CONTROL_RUN, " ").trim();
}

/**
 * Text of several lines for a plain-text body: line breaks become "\n",
 * other control characters, bidi controls and invisible characters go.
 */
export function plainLines(s: string): string {
  return s.toWellFormed().replace(UNSEEN_FORMATTING, "")
    .replace(LINE_BREAK, "\n")
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, " ")
    .trim();
}
